"""``python -m dataprep``: the same program as the ``dataprep`` command (handy with ``-X importtime``)."""

from dataprep.cli import main

if __name__ == "__main__":
    main()
