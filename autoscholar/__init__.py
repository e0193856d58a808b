"""autoscholar: build AutoScholarQuery-style paper-search datasets from Related Work sections."""

__version__ = "0.1.0"
