"""`python -m newsroom` and the `newsroom` command."""

import gc


def run() -> None:
    # The command's imports make a quarter of a million objects that live as long as it does: the
    # cyclic collector scanned them over and over while they were made (30 ms of every command).
    gc.disable()
    from newsroom.cli import main

    gc.freeze()
    gc.enable()
    main()


if __name__ == "__main__":
    run()
