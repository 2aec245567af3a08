"""`python -m ui`: the same as `qa serve`."""
import argparse
import sys

from ui.cli import add_arguments


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ui", description="Serve the web chat.")
    add_arguments(parser)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
