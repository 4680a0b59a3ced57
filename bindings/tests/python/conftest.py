"""Finds the generated module and the parity fixtures (`cargo xtask bindings` sets both)."""

import os
import pathlib
import sys

GENERATED = pathlib.Path(os.environ.get("PLAYHEAD_PYTHON", "target/bindings/python")).resolve()
sys.path.insert(0, str(GENERATED))
FIXTURES = pathlib.Path(os.environ.get("PLAYHEAD_PARITY", "target/parity")).resolve()
