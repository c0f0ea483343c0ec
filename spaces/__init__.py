"""Built-in searchlab search spaces: NAS-Bench-201 (``nb201``) and FBNet (``fbnet``)."""
