"""`python -m orchestrator`: run the orchestrator service (configured by XRAY_* env vars)."""

import sys

from orchestrator.service import main

sys.exit(main())
