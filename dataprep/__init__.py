"""dataprep: decide whether a chat dataset is fit for fine-tuning, show why not, fix it, train."""

__version__ = "0.1.0"
