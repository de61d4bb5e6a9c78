"""The label-budget table says which pieces a partial study still lacks."""

from sleep_kd.studies.label_budget_report import budget_table, missing_text, teacher_table


def piece(fold: int, budget: int, context: int = 20) -> dict:
    return {"fold": fold, "budget": budget, "context_epochs": context, "causal": False}


def test_missing_pieces_are_named_per_k_with_all_last():
    result = {"rows": [], "changes": [], "missing": [piece(3, 0), piece(1, 2), piece(0, 2, 0), piece(0, 2), piece(2, 16)]}
    assert missing_text(result) == ("\n\nNot run yet (a partial study; the folds column says how many each row "
                                    "holds): K=2 one window: fold 0; K=2 context 20: folds 0, 1; K=16 context 20: fold 2; "
                                    "K=all context 20: fold 3.")
    assert budget_table(result).endswith("K=all context 20: fold 3.")


def test_a_complete_study_has_no_missing_paragraph():
    assert missing_text({"rows": [], "changes": [], "missing": []}) == ""
    assert "Not run yet" not in budget_table({"rows": [], "changes": []})


def test_teacher_table_gives_mean_and_interval_per_form_and_k():
    teachers = [{"fold": f, "budget": 2, "context_epochs": 20, "val_kappa": k} for f, k in ((0, 0.70), (1, 0.80))]
    teachers.append({"fold": 0, "budget": 0, "context_epochs": 0, "val_kappa": 0.75})
    lines = teacher_table({"teachers": teachers}).splitlines()
    assert lines[2] == "| one window | all | 1 | 0.750 |"  # one fold: no interval
    assert lines[3] == "| context 20 | 2 | 2 | 0.750 [0.115, 1.385] |"  # t(0.975, 1) = 12.71, sem 0.05
