"""regime-engine."""

from regime_engine.native import extend_path

# compiled modules (mypyc) first when they were built from these sources; see regime_engine.native
extend_path(__path__, __name__)
