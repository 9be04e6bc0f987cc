"""Recognition backends behind one interface: ``rekognition`` (AWS), ``local`` (offline), ``none``."""

from shoebox.recognition.base import Face, FaceMatch, Label, Recognizer, get_recognizer

__all__ = ["Face", "FaceMatch", "Label", "Recognizer", "get_recognizer"]
