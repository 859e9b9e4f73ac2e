"""A simulated Litmus Edge Manager for testing the litmus.lem collection.

See README.md beside this file for the control plane and fault rules.
"""

from .server import Simulator

__all__ = ["Simulator"]
