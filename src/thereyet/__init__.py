"""thereyet: report the progress of any job to a thereyet hub.

`import thereyet` is the client SDK: standard library only, safe to import in
any job. The hub lives in `thereyet.server` (install the `server` extra).
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
