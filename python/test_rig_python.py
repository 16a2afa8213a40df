"""The old rig's module name: the same objects as ``test_rig``."""

from test_rig import *  # noqa: F401,F403
from test_rig import __all__  # noqa: F401
