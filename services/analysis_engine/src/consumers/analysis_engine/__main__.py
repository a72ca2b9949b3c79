"""`python -m consumers.analysis_engine`: run the analysis_engine service."""

import sys

from consumers.analysis_engine.service import main

sys.exit(main())
