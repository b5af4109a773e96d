"""``python -m dataprep``: the same program as the ``dataprep`` command (handy with ``-X importtime``)."""

from dataprep.cli import run

if __name__ == "__main__":
    run()
