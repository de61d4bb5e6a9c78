"""2-D embeddings of per-epoch bottleneck features, drawn one panel per model on shared axes.

The papers' feature figure: each model's bottleneck feature map (B, F, L), averaged over its
length to one F-vector per epoch, embedded in 2-D (PCA, or t-SNE) and coloured by the true stage.
"""

from __future__ import annotations

from typing import Sequence

import matplotlib

matplotlib.use("Agg")  # no screen on training machines
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

METHODS = ("pca", "tsne")
STAGE_COLOURS = ("#f2c14e", "#6baed6", "#08519c", "#d1495b", "#74c476")  # W, Light/NREM, Deep/REM, ...


@torch.no_grad()
def bottleneck_features(model: torch.nn.Module, dataset, indices: Sequence, *, modality: str,
                        batch_size: int = 128) -> np.ndarray:
    """Mean bottleneck features of epochs of ``dataset``: (len(indices), bottleneck_filters) float32.

    ``indices`` are item indices of a per-window dataset; for a context model (``model.context_epochs``,
    ``dataset`` a :class:`~sleep_kd.data.sequences.CohortSequences`) they are (recording index, epoch)
    pairs, and its per-epoch encoder reads each epoch's own window, as it does inside a sequence.
    ``model`` must return taps (``forward(x, return_taps=True)``, as :class:`~sleep_kd.models.utime.UTime`
    does); it is run in eval mode and left in the mode it was in.
    """
    from sleep_kd.models import context_epochs_of

    network = model.encoder if context_epochs_of(model) else model
    device = next(network.parameters()).device
    was_training = network.training
    network.eval()
    parts = []
    try:
        for first in range(0, len(indices), batch_size):
            chunk = list(indices[first:first + batch_size])
            x = _epoch_windows(dataset, chunk, modality) if network is not model else \
                torch.stack([item[modality] for item in dataset.__getitems__(chunk)])
            _, taps = network(x.to(device), return_taps=True)
            parts.append(taps["bottleneck"][0].float().mean(dim=-1).cpu())
    finally:
        network.train(was_training)
    return torch.cat(parts).numpy() if parts else np.zeros((0, 0), dtype=np.float32)


def _epoch_windows(dataset, pairs: Sequence[tuple[int, int]], modality: str) -> torch.Tensor:
    """The windows (n, 1, n_times) of (recording, epoch) pairs of a sequence dataset, in the pairs' order."""
    recordings = np.asarray([r for r, _ in pairs], dtype=np.int64)
    epochs = np.asarray([e for _, e in pairs], dtype=np.int64)
    out = torch.empty((len(pairs), 1, dataset.n_times), dtype=torch.float32)
    for recording in np.unique(recordings):
        mine = np.flatnonzero(recordings == recording)
        out[torch.from_numpy(mine)] = dataset.epoch_windows(int(recording), epochs[mine], modality)
    return out


def embed(features: np.ndarray, *, method: str = "pca", seed: int = 0) -> np.ndarray:
    """(n, F) features -> (n, 2), scaled so the first axis has unit spread (comparable across models)."""
    from sklearn.preprocessing import StandardScaler

    if method not in METHODS:
        raise ValueError(f"embedding method {method!r}: expected one of {', '.join(METHODS)}")
    x = StandardScaler().fit_transform(np.asarray(features, dtype=np.float64))
    if len(x) < 3:
        return np.zeros((len(x), 2))
    if method == "pca":
        from sklearn.decomposition import PCA

        xy = PCA(n_components=2, random_state=seed).fit_transform(x)
    else:
        from sklearn.manifold import TSNE

        xy = TSNE(n_components=2, random_state=seed, init="pca",
                  perplexity=float(min(30, max(2, (len(x) - 1) // 3)))).fit_transform(x)
    spread = xy[:, 0].std()
    return xy / spread if spread > 0 else xy


def embedding_figure(panels: Sequence[tuple[str, np.ndarray, np.ndarray]], class_names: Sequence[str], *,
                     method: str = "pca") -> plt.Figure:
    """One scatter panel per model (``(title, xy (n, 2), true class (n,))``), all with the same axis limits."""
    xy_all = np.concatenate([xy for _, xy, _ in panels]) if panels else np.zeros((1, 2))
    low, high = np.percentile(xy_all, 0.5, axis=0), np.percentile(xy_all, 99.5, axis=0)
    pad = 0.05 * np.maximum(high - low, 1e-6)
    figure, axes = plt.subplots(1, max(len(panels), 1), figsize=(3.4 * max(len(panels), 1), 3.4), squeeze=False)
    for axis, (title, xy, labels) in zip(axes[0], panels):
        for k, name in enumerate(class_names):
            mine = labels == k
            axis.scatter(xy[mine, 0], xy[mine, 1], s=4, alpha=0.6, color=STAGE_COLOURS[k % len(STAGE_COLOURS)],
                         label=name, linewidths=0)
        axis.set_xlim(low[0] - pad[0], high[0] + pad[0])
        axis.set_ylim(low[1] - pad[1], high[1] + pad[1])
        axis.set_title(title, fontsize=8)
        axis.set_xticks([])
        axis.set_yticks([])
    axes[0][0].set_xlabel(f"{method.upper()} 1")
    axes[0][0].set_ylabel(f"{method.upper()} 2")
    axes[0][-1].legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7, markerscale=3, frameon=False)
    figure.tight_layout()
    return figure
