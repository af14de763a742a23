"""`python -m newsroom` and the `newsroom` command."""

import gc
import os
import sys


def run() -> None:
    # The command's imports make a quarter of a million objects that live as long as it does: the
    # cyclic collector scanned them over and over while they were made (30 ms of every command).
    gc.disable()
    from newsroom import forked
    from newsroom.content import scan

    scan.start_early(sys.argv[1:])  # a build's scan, beside the imports (see start_early)
    from newsroom import cli

    gc.freeze()
    gc.enable()
    try:
        cli.main()
    except SystemExit as done:
        if cli.exits.skip_teardown and (done.code is None or isinstance(done.code, int)):
            # nothing is left to do but free memory: flush what was printed and end the process
            sys.stdout.flush()
            sys.stderr.flush()
            forked.reap_children()  # os._exit runs no atexit handlers
            os._exit(done.code or 0)
        raise


if __name__ == "__main__":
    run()
