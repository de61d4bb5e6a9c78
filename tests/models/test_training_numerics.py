"""The plain network trains with the arithmetic of a hand-written U-Time forward, bit for bit.

A guard on the training numerics: whatever the modules look like, a training step computes
exactly the convolutions, BatchNorms (batch statistics), pooling, upsampling and head written
out below with ``torch.nn.functional``, in the same order, so seeds and checkpoints keep their
meaning. The faster scoring forms (``sleep_kd.fast``) are tested apart.
"""

import torch
import torch.nn.functional as F

from sleep_kd.models import create_model

TINY = dict(sfreq=10.0, window_s=12.0, filters=[4, 6], pool_sizes=[4, 3], bottleneck_filters=8)


def _block(block, x, *, training):
    conv, norm = block.conv, block.norm
    x = F.relu(F.conv1d(x, conv.weight, conv.bias, padding=conv.padding, dilation=conv.dilation), inplace=True)
    return F.batch_norm(x, norm.running_mean, norm.running_var, norm.weight, norm.bias, training=training,
                        momentum=norm.momentum, eps=norm.eps)


def reference_forward(model, x, *, training=True):
    skips = []
    for level in model.encoder:
        for block in level.blocks:
            x = _block(block, x, training=training)
        skips.append(x)
        x = F.max_pool1d(x, level.pool_size)
    for block in model.bottleneck:
        x = _block(block, x, training=training)
    for level, skip in zip(model.decoder, reversed(skips)):
        up = _block(level.reduce, F.interpolate(x, scale_factor=float(level.scale), mode="nearest"), training=training)
        x = torch.cat([skip, up], dim=1)
        for block in level.blocks:
            x = _block(block, x, training=training)
    scores = torch.tanh(F.conv1d(x, model.dense.weight, model.dense.bias))
    return F.conv1d(scores.mean(dim=-1, keepdim=True), model.classify.weight, model.classify.bias).flatten(1)


def _step(model, forward, x, y):
    model.zero_grad(set_to_none=True)
    logits = forward(x)
    F.cross_entropy(logits, y).backward()
    return logits.detach(), {k: p.grad.clone() for k, p in model.named_parameters()}


def test_a_training_step_is_the_hand_written_forward_bit_for_bit():
    for name, overrides in (("utime_small", {}), ("utime_small", TINY)):
        torch.manual_seed(0)
        model = create_model(name, n_classes=4, **overrides).train()
        copy = create_model(name, n_classes=4, **overrides).train()
        copy.load_state_dict(model.state_dict())
        x, y = torch.randn(6, 1, model.n_times), torch.arange(6) % 4
        logits, grads = _step(model, model, x, y)
        ref_logits, ref_grads = _step(copy, lambda t: reference_forward(copy, t), x, y)
        assert torch.equal(logits, ref_logits)
        assert all(torch.equal(grads[k], ref_grads[k]) for k in grads), name
        for (key, a), (_, b) in zip(model.state_dict().items(), copy.state_dict().items()):
            if not key.endswith("num_batches_tracked"):  # the module counts batches, F.batch_norm does not
                assert torch.equal(a, b), key  # running statistics updated alike
        assert int(model.encoder[0].blocks[0].norm.num_batches_tracked) == 1


def test_the_eval_forward_is_the_hand_written_one():
    torch.manual_seed(1)
    model = create_model("utime_small", n_classes=4, **TINY)
    model.train()(torch.randn(4, 1, model.n_times))  # running statistics away from their start
    model.eval()
    x = torch.randn(3, 1, model.n_times)
    with torch.no_grad():
        assert torch.equal(model(x), reference_forward(model, x, training=False))


def test_state_dict_keys_and_shapes_are_the_checkpoints():
    shapes = {k: tuple(v.shape) for k, v in create_model("utime_small", n_classes=4).state_dict().items()}
    assert len(shapes) == (4 * 2 + 2 + 4 * 3) * 7 + 4  # blocks x (conv 2, BatchNorm 5) + the head
    assert shapes["encoder.0.blocks.0.conv.weight"] == (8, 1, 5)
    assert shapes["encoder.0.blocks.0.norm.running_mean"] == (8,)
    assert shapes["decoder.3.reduce.conv.weight"] == (8, 16, 5)
    assert shapes["decoder.3.blocks.0.conv.weight"] == (8, 16, 5)
    assert shapes["bottleneck.1.norm.num_batches_tracked"] == ()
    assert shapes["dense.weight"] == (4, 8, 1) and shapes["classify.weight"] == (4, 4, 1)
