"""The per-operator profile (``tinygen profile``): one inference's operator times, measured by
a profile build of the firmware, joined with the model's operators and drawn."""

from tinygen.profile.chart import render_html, render_svg
from tinygen.profile.measure import Measurement, measure_ops
from tinygen.profile.report import OpRow, Profile, build_profile, format_profile

__all__ = ["Measurement", "OpRow", "Profile", "build_profile", "format_profile", "measure_ops",
           "render_html", "render_svg"]
