"""sleep_kd: sleep staging from one ECG lead, taught by an EEG model through knowledge distillation."""

__version__ = "0.1.0"
