"""`shoebox serve`: the gallery, a web app on 127.0.0.1 over the same Backend the CLI uses.

Every page reads the catalog through its Queries (never a Scan) and S3 through the Backend's clients;
pages show only the thumbnails (made without GPS or camera EXIF), the original only on an explicit
download; every write needs the token the page was served with (docs/gallery.md)."""
