"""`python -m consumers.dashboards`: the live dashboard (configured by XRAY_* env vars)."""

import sys

from consumers.dashboards.service import main

sys.exit(main())
