"""The experiments behind the results: each a module with ``main(argv)``, run as ``sleep-kd study NAME``.

``kd_study`` (does the EEG teacher help the ECG student, by fold and context length), ``kd_seeds``
(the same over seeds), ``label_budget`` (K scored training subjects), ``teacher_signal`` and
``at_probe`` (what the teacher gives, read from a kd_study runs folder), ``relabel_cohort`` (a
cohort at a chosen scorer agreement), ``study_tables`` and ``compare_studies`` (tables of results),
``results_page`` (``docs/results.md`` from the results files), ``context`` and ``context_onset``
(choosing the night-context model), ``reference`` (the reference pipeline's row). They train
through :func:`sleep_kd.cli.train.train` and score against the generator's true stages through
:mod:`sleep_kd.evaluation.truth`.
"""
