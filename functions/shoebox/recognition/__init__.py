"""Recognition backends behind one interface: ``rekognition`` (AWS), ``local`` (offline), ``none``."""

from shoebox.recognition.base import Face, FaceMatch, ImageRef, Label, Recognizer
from shoebox.recognition.registry import get_recognizer

__all__ = ["Face", "FaceMatch", "ImageRef", "Label", "Recognizer", "get_recognizer"]
