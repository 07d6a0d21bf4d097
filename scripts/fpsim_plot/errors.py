"""The exception every plot command raises for bad input (fpsim_plot.__main__).

BadInput(msg): the input is not what the command reads (a file that is not
fpsim's output, a directory that is not a sweep): `scripts/plot` prints
`plot COMMAND: msg` and exits with status 2, having written nothing.
"""


class BadInput(Exception):
    """Input that is not what the command reads: exit status 2, nothing written."""
