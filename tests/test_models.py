"""Tests for ddd_utils.models: output shapes, parameter counts against closed forms, determinism, BatchNorm modes,
input checks, and one training step."""

from itertools import pairwise

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ddd_utils.models import CNN5, MLP, MODELS, PreActResNet18, build_model, count_parameters

MNIST1D = (1, 40)
CIFAR = (3, 32, 32)


def _inputs(batch, shape, seed=0):
    return torch.randn((batch, *shape), generator=torch.Generator().manual_seed(seed))


def mlp_count(in_features, k, classes, depth=1):
    sizes = [in_features] + [k] * depth + [classes]
    return sum(fan_in * fan_out + fan_out for fan_in, fan_out in pairwise(sizes))


def cnn5_count(k, classes, in_channels, dims):
    channels = [in_channels, k, 2 * k, 4 * k, 8 * k]
    convs = sum(3**dims * c_in * c_out for c_in, c_out in pairwise(channels))  # no bias
    batchnorms = sum(2 * c for c in channels[1:])  # scale and shift
    return convs + batchnorms + 8 * k * classes + classes


def resnet18_count(k, classes, in_channels=3, dims=2):
    # Per stage, with c = channels in and d = channels out of the stage (3x3 convs without bias, BN = 2 per channel):
    #   first block  2c + 9cd + 2d + 9d^2 (+ cd for the 1x1 shortcut when c != d), second block 2 * (2d + 9d^2).
    # Stages (k, k), (k, 2k), (2k, 4k), (4k, 8k) give 36k^2 + 8k, 128k^2 + 14k, 512k^2 + 28k, 2048k^2 + 56k:
    # 298k^2 kernel weights (times 9 for 3x3 kernels, 3 for the 1-D network's 3-sample ones) and 42k^2 in the 1x1
    # shortcuts. Add the stem 9 (or 3) * in_channels * k, the final BN 2 * 8k and the head 8k * classes + classes.
    kernel = 3**dims
    return (298 * kernel + 42) * k**2 + (kernel * in_channels + 106 + 16) * k + 8 * k * classes + classes


# Shapes.


@pytest.mark.parametrize("width", [1, 3, 8])
@pytest.mark.parametrize("batch", [1, 5])
@pytest.mark.parametrize("shape", [(40,), MNIST1D, CIFAR])
def test_mlp_output_shape(width, batch, shape):
    model = MLP(int(np.prod(shape)), width, num_classes=7)
    assert model(_inputs(batch, shape)).shape == (batch, 7)


def test_mlp_accepts_flat_and_channel_inputs_alike():
    model = MLP(40, 4, num_classes=10)
    x = _inputs(3, (40,))
    torch.testing.assert_close(model(x), model(x.unsqueeze(1)), rtol=0, atol=0)


@pytest.mark.parametrize("width", [1, 5])
@pytest.mark.parametrize("batch", [2, 5])
@pytest.mark.parametrize("shape", [(40,), MNIST1D, (3, 40), CIFAR, (1, 28, 28), (3, 8, 8)])
def test_cnn5_output_shape_for_signals_and_images(width, batch, shape):
    model = build_model("cnn5", width, shape, num_classes=10)
    assert isinstance(model, CNN5) and model.dims == (1 if len(shape) <= 2 else 2)
    assert model(_inputs(batch, shape)).shape == (batch, 10)


def test_cnn5_1d_accepts_flat_and_channel_inputs_alike():
    model = CNN5(3, num_classes=10, in_channels=1, dims=1).eval()
    x = _inputs(4, (40,))
    torch.testing.assert_close(model(x), model(x.unsqueeze(1)), rtol=0, atol=0)


@pytest.mark.parametrize("width", [1, 3])
@pytest.mark.parametrize("batch", [2, 3])
@pytest.mark.parametrize("shape", [CIFAR, (1, 16, 16), (40,), MNIST1D])
def test_resnet18_output_shape(width, batch, shape):
    model = build_model("resnet18", width, shape, num_classes=10)
    assert model(_inputs(batch, shape)).shape == (batch, 10)


# Parameter counts.


@pytest.mark.parametrize("depth", [1, 2, 4])
@pytest.mark.parametrize("width", [1, 5, 64])
def test_mlp_parameter_count(width, depth):
    assert count_parameters(MLP(40, width, 10, depth=depth)) == mlp_count(40, width, 10, depth)


@pytest.mark.parametrize("width", [1, 2, 7, 64])
@pytest.mark.parametrize("in_channels,dims", [(3, 2), (1, 2), (1, 1)])
def test_cnn5_parameter_count(width, in_channels, dims):
    model = CNN5(width, num_classes=10, in_channels=in_channels, dims=dims)
    assert count_parameters(model) == cnn5_count(width, 10, in_channels, dims)


def test_cnn5_width_64_on_cifar10():
    # 9 * (3 * 64 + 42 * 64^2) conv weights + 30 * 64 BN + 512 * 10 + 10 head.
    assert count_parameters(build_model("cnn5", 64, CIFAR, 10)) == 1_557_066


@pytest.mark.parametrize("width", [1, 2, 64])
def test_resnet18_parameter_count(width):
    assert count_parameters(PreActResNet18(width, num_classes=10)) == resnet18_count(width, 10)
    assert count_parameters(build_model("resnet18", width, (40,), 10)) == resnet18_count(width, 10, 1, dims=1)


def test_resnet18_width_64_is_kuangliu_preact_resnet18_plus_the_final_batchnorm():
    # kuangliu/pytorch-cifar's PreActResNet18 (11,171,146 parameters) has no BN after the last stage; ours does.
    assert count_parameters(PreActResNet18(64, num_classes=10)) == 11_171_146 + 2 * 512 == 11_172_170


def test_count_parameters_skips_frozen_parameters():
    model = MLP(40, 4, 10)
    model.net[-1].requires_grad_(False)
    assert count_parameters(model) == mlp_count(40, 4, 10) - (4 * 10 + 10)


@pytest.mark.parametrize("name,shape", [("mlp", MNIST1D), ("cnn5", MNIST1D), ("cnn5", CIFAR), ("resnet18", CIFAR)])
def test_parameter_count_grows_strictly_with_width(name, shape):
    counts = [count_parameters(build_model(name, width, shape, 10)) for width in range(1, 9)]
    assert all(a < b for a, b in pairwise(counts)), counts


# Determinism and BatchNorm modes.


@pytest.mark.parametrize("name,shape", [("mlp", MNIST1D), ("cnn5", MNIST1D), ("cnn5", CIFAR), ("resnet18", CIFAR)])
def test_same_seed_gives_identical_initial_parameters(name, shape):
    def init(seed):
        torch.manual_seed(seed)
        return list(build_model(name, 3, shape, 10).parameters())

    first, again, other = init(0), init(0), init(1)
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
    assert not all(torch.equal(a, b) for a, b in zip(first, other, strict=True))


@pytest.mark.parametrize("name,shape", [("cnn5", MNIST1D), ("cnn5", CIFAR), ("resnet18", CIFAR)])
def test_batchnorm_uses_batch_statistics_in_train_mode_and_running_statistics_in_eval_mode(name, shape):
    torch.manual_seed(0)
    model = build_model(name, 2, shape, 10)
    x = _inputs(6, shape)
    with torch.no_grad():
        model.train()
        train_alone, train_batched = model(x[:2]), model(x)  # these calls also move the running statistics
        model.eval()
        eval_alone, eval_batched = model(x[:1]), model(x)
    assert not torch.allclose(train_alone[:1], train_batched[:1], atol=1e-4)
    torch.testing.assert_close(eval_alone, eval_batched[:1], rtol=1e-4, atol=1e-5)


# Input checks.


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize("width,error", [(0, ValueError), (-3, ValueError), (2.5, TypeError), ("4", TypeError)])
def test_bad_width_is_rejected_with_its_name(name, width, error):
    with pytest.raises(error, match=r"width must be an integer >= 1; got"):
        build_model(name, width, CIFAR, 10)


@pytest.mark.parametrize("make", [lambda: MLP(40, 0, 10), lambda: CNN5(0), lambda: PreActResNet18(0)])
def test_classes_reject_width_zero(make):
    with pytest.raises(ValueError, match="width must be an integer >= 1; got 0"):
        make()


def test_numpy_integer_width_is_accepted():
    assert count_parameters(build_model("mlp", np.int64(4), MNIST1D, 10)) == mlp_count(40, 4, 10)


def test_unknown_model_name_lists_the_known_ones():
    known = r"\('mlp', 'mlp2', 'cnn5', 'strided_cnn', 'resnet18'\)"
    with pytest.raises(ValueError, match=rf"name must be one of {known}; got 'vgg'"):
        build_model("vgg", 4, CIFAR, 10)


def test_resnet18_needs_a_signal_or_an_image_shape():
    with pytest.raises(ValueError, match=r"input_shape for resnet18 must be \(L,\), \(C, L\) or \(C, H, W\)"):
        build_model("resnet18", 4, (1, 2, 3, 4), 10)


def test_resnet18_reads_a_bare_signal_as_one_channel():
    torch.manual_seed(0)
    model = build_model("resnet18", 2, (40,), 10).eval()
    x = torch.randn(3, 40)
    torch.testing.assert_close(model(x), model(x.unsqueeze(1)), rtol=0, atol=0)


@pytest.mark.parametrize("shape,match", [((), "input_shape must have at least one"), ((1, 0), "input_shape entries"),
                                         ((1, 2, 3, 4), "input_shape for cnn5")])
def test_bad_input_shapes_are_rejected(shape, match):
    with pytest.raises(ValueError, match=match):
        build_model("cnn5", 4, shape, 10)


@pytest.mark.parametrize("make,name", [(lambda: MLP(40, 4, 10, depth=0), "depth"),
                                       (lambda: MLP(40, 4, 0), "num_classes"),
                                       (lambda: CNN5(4, in_channels=0), "in_channels"),
                                       (lambda: PreActResNet18(4, num_classes=0), "num_classes")])
def test_other_sizes_are_checked_by_name(make, name):
    with pytest.raises(ValueError, match=f"{name} must be an integer >= 1"):
        make()


def test_cnn5_dims_must_be_1_or_2():
    with pytest.raises(ValueError, match="dims must be 1"):
        CNN5(4, dims=3)


# Training.


@pytest.mark.parametrize("name,shape", [("mlp", MNIST1D), ("cnn5", MNIST1D), ("cnn5", CIFAR), ("resnet18", CIFAR)])
def test_one_sgd_step_uses_every_parameter_and_reduces_the_loss_on_a_fixed_batch(name, shape):
    torch.manual_seed(0)
    model = build_model(name, 2, shape, 10).train()
    x, y = _inputs(16, shape), torch.arange(16) % 10
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    # Every counted parameter is used: a module built but left out of forward would get no gradient.
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())
    optimizer.step()
    with torch.no_grad():
        assert F.cross_entropy(model(x), y) < loss.detach() - 1e-4


def test_grow_from_copies_the_trained_block_and_draws_the_rest():
    from ddd_utils.models import grow_from

    torch.manual_seed(0)
    small, big = MLP(40, 3, 10), MLP(40, 7, 10)
    grown = grow_from(big, small)
    assert grown is big
    first, head = big.net[1], big.net[3]
    assert torch.equal(first.weight[:3], small.net[1].weight) and torch.equal(first.bias[:3], small.net[1].bias)
    assert torch.equal(head.weight[:, :3], small.net[3].weight) and torch.equal(head.bias, small.net[3].bias)
    new = torch.cat([first.weight[3:].flatten(), head.weight[:, 3:].flatten()])
    assert 0.05 < new.std().item() < 0.2  # N(0, 0.01): standard deviation 0.1
    with pytest.raises(ValueError, match="at least as wide"):
        grow_from(MLP(40, 2, 10), MLP(40, 3, 10))


def test_strided_cnn_is_greydanus_network_and_counts_its_parameters():
    # conv 1->k (kernel 5) + k->k (3) + k->k (3), each with bias, and a head on 5 positions x k channels.
    for k in (2, 18, 100):
        model = build_model("strided_cnn", k, (40,), 10)
        expected = (5 * k + k) + 2 * (3 * k * k + k) + (5 * k * 10 + 10)
        assert count_parameters(model) == expected
        assert model(torch.randn(7, 40)).shape == (7, 10)
    with pytest.raises(ValueError, match=r"strided_cnn must be a bare signal"):
        build_model("strided_cnn", 4, (1, 8, 8), 10)
