"""`python -m consumers.state_gate`: run the gate service (configured by XRAY_* env vars)."""

import sys

from consumers.state_gate.service import main

sys.exit(main())
