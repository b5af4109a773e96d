"""Rule presets, thresholds, verdicts and output formats.

``run_gate(paths, preset="openai")`` -> GateResult (``.verdict``, ``.exit_code()``); presets in
:mod:`dataprep.gate.presets`, the per-file analysis in :mod:`dataprep.gate.verdict`.
"""

_LAZY = {"run_gate": "verdict", "GateResult": "verdict", "FileAssessment": "verdict", "assess": "verdict",
         "assess_path": "verdict", "load_preset": "presets", "Preset": "presets", "PresetError": "presets",
         "builtin_presets": "presets"}


def __getattr__(name):  # lazy: `dataprep.gate.formats` is imported by every command and must stay light
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"dataprep.gate.{_LAZY[name]}"), name)
    raise AttributeError(name)


__all__ = list(_LAZY)
