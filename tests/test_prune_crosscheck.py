"""Cross-checks of vislab.compress.graph's dependency groups and surgery against torch-pruning's DependencyGraph (a test-only
dependency), and zeroing == removal on timm and torchvision models whose unsupported parts are blocked."""
import copy
import pytest
import timm
import torch
import torchvision
from vislab.models import resnet
from vislab.compress.graph import dependency_graph, prune_channels, zero_channels

tp = pytest.importorskip('torch_pruning')

MODELS = {
    'vislab-resnet8': lambda: (resnet(8, width=16, n_in=3), torch.randn(2, 3, 32, 32)),
    'vislab-resnet20': lambda: (resnet(20, width=8, n_in=1), torch.randn(2, 1, 28, 28)),
    'torchvision-resnet18': lambda: (torchvision.models.resnet18(num_classes=10), torch.randn(2, 3, 32, 32)),
    'torchvision-mobilenet_v2': lambda: (torchvision.models.mobilenet_v2(num_classes=10, width_mult=.25), torch.randn(2, 3, 32, 32)),
    'timm-resnet18': lambda: (timm.create_model('resnet18', num_classes=10), torch.randn(2, 3, 32, 32)),
    'timm-mobilenetv2_050': lambda: (timm.create_model('mobilenetv2_050', num_classes=10), torch.randn(2, 3, 32, 32)),
}

def _randomize(model, seed=0):
    "Random BN statistics and affine parameters, eval mode: no channel is trivially an identity or zero."
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                for t in (m.weight, m.bias, m.running_mean): t.copy_(torch.randn(t.shape, generator=g))
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + .5)
    return model.eval()

def _tp_group(DG, model, name):
    "torch-pruning's group for the output channels of layer `name`, as a set of (layer name, 'out' or 'in')."
    names = {m: n for n, m in model.named_modules()}
    grp = DG.get_pruning_group(model.get_submodule(name), tp.prune_conv_out_channels, idxs=[0])
    return {(names[dep.target.module], 'out' if 'out' in dep.handler.__name__ else 'in')
            for dep, _ in grp if dep.target.module in names}

@pytest.mark.parametrize('arch', MODELS)
def test_groups_match_torch_pruning(arch):
    model, x = MODELS[arch]()
    DG = tp.DependencyGraph().build_dependency(model, example_inputs=x)
    graph = dependency_graph(model, x)
    for g in graph.prunable:
        ours = {(n, 'out') for n in g.producers + g.norms + g.depthwise} | {(n, 'in') for n, _ in g.consumers}
        assert _tp_group(DG, model, g.name) == ours, g.name

@pytest.mark.parametrize('arch', MODELS)
def test_surgery_matches_torch_pruning(arch):
    model, x = MODELS[arch]()
    model = _randomize(model)
    theirs = copy.deepcopy(model)
    graph = dependency_graph(model, x)
    DG = tp.DependencyGraph().build_dependency(theirs, example_inputs=x)
    gen, plan = torch.Generator().manual_seed(1), {}
    for g in graph.prunable:
        perm = torch.randperm(g.size, generator=gen)
        n_drop = g.size // 3
        plan[g.name] = perm[n_drop:]
        if n_drop:
            DG.get_pruning_group(theirs.get_submodule(g.name), tp.prune_conv_out_channels, idxs=perm[:n_drop].tolist()).prune()
    prune_channels(graph, plan)
    a, b = model.state_dict(), theirs.state_dict()
    assert a.keys() == b.keys()
    for k in a: torch.testing.assert_close(a[k], b[k], msg=k)
    with torch.no_grad(): torch.testing.assert_close(model(x), theirs(x))

# models with parts the surgery does not handle (squeeze-excitation gates, concatenation, grouped convs): those groups
# are blocked, and the rest must still prune exactly
PARTLY = {'timm-efficientnet_b0': ("Sigmoid 'blocks.0.0.se.gate'", 24), 'timm-densenet121': ('function cat', 58),
          'timm-resnext26ts': ("grouped Conv2d 'stages.0.0.conv2_kxk.conv' (groups=2)", 7),
          'torchvision-mobilenet_v3_small': ("Hardsigmoid 'features.1.block.1.scale_activation'", 18)}

@pytest.mark.parametrize('arch', PARTLY)
def test_blocked_groups_and_the_rest_prunes_exactly(arch):
    lib, name = arch.split('-', 1)
    model = _randomize(timm.create_model(name, num_classes=10) if lib == 'timm' else getattr(torchvision.models, name)(num_classes=10))
    x = torch.randn(2, 3, 64, 64)
    graph = dependency_graph(model, x)
    why, n_prunable = PARTLY[arch]
    assert any(why in g.blocked for g in graph) and len(graph.prunable) == n_prunable
    gen = torch.Generator().manual_seed(0)
    plan = {g.name: torch.randperm(g.size, generator=gen)[:max(1, g.size // 2)] for g in graph.prunable}
    zeroed = zero_channels(dependency_graph(copy.deepcopy(model), x), plan)
    with torch.no_grad(): torch.testing.assert_close(prune_channels(graph, plan)(x), zeroed(x), atol=1e-4, rtol=1e-4)

# transformers and ConvNeXts (vislab.compress.transformers): LayerNorm groups, attention heads, layer scales, tokens
from vislab.compress.graph import _rows
from vislab.compress.transformers import removal_reference

TRANSFORMERS = {
    'timm-vit_tiny_patch16_224': lambda: (timm.create_model('vit_tiny_patch16_224', img_size=32), torch.randn(2, 3, 32, 32)),
    'timm-deit_tiny_patch16_224': lambda: (timm.create_model('deit_tiny_patch16_224', img_size=32), torch.randn(2, 3, 32, 32)),
    'timm-convnext_atto': lambda: (timm.create_model('convnext_atto'), torch.randn(2, 3, 64, 64)),
    'torchvision-convnext_tiny': lambda: (torchvision.models.convnext_tiny(), torch.randn(2, 3, 64, 64)),
}

def _randomize_all(model, seed=0):
    "Random biases, norm scales/shifts, layer scales, class tokens and position embeddings; eval mode."
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for n, p in model.named_parameters():
            if p.ndim == 1 or n.endswith(('gamma', 'layer_scale', 'cls_token', 'pos_embed')): p.copy_(torch.randn(p.shape, generator=g))
    return model.eval()

@pytest.mark.filterwarnings('ignore:Unwrapped parameters')
@pytest.mark.parametrize('arch', TRANSFORMERS)
def test_transformer_surgery_matches_torch_pruning(arch):
    torch.manual_seed(0)
    model, x = TRANSFORMERS[arch]()
    model = _randomize_all(model)
    theirs, ref = copy.deepcopy(model), copy.deepcopy(model)
    graph = dependency_graph(model, x)
    assert len(graph.prunable) == len(graph) - 1                 # all but the classifier's outputs
    DG = tp.DependencyGraph().build_dependency(theirs, example_inputs=x)
    gen, plan = torch.Generator().manual_seed(1), {}
    for g in graph.prunable:                                     # a random third of each group's units (heads: whole heads)
        n = g.size // g.unit
        perm = torch.randperm(n, generator=gen)
        plan[g.name] = (perm[n // 3:, None] * g.unit + torch.arange(g.unit)).flatten()
        drop = (perm[:n // 3, None] * g.unit + torch.arange(g.unit)).flatten()
        layer = theirs.get_submodule(g.name)
        copies = next(a for m, r, a in g.members if r == 'out' and m == g.name)
        fn = tp.prune_conv_out_channels if isinstance(layer, torch.nn.Conv2d) else tp.prune_linear_out_channels
        if len(drop): DG.get_pruning_group(layer, fn, idxs=_rows(layer, 'out', copies, drop).tolist()).prune()
    for m in theirs.modules():
        if isinstance(m, timm.layers.Attention): m.attn_dim = m.qkv.out_features // 3; m.num_heads = m.attn_dim // m.head_dim
    prune_channels(graph, plan)
    a, b = model.state_dict(), theirs.state_dict()
    assert a.keys() == b.keys()
    for k in a: torch.testing.assert_close(a[k], b[k], msg=k)
    with torch.no_grad():
        out = model(x)
        torch.testing.assert_close(out, theirs(x))
        with removal_reference(dependency_graph(ref, x), plan) as r: torch.testing.assert_close(out, r(x), atol=1e-4, rtol=1e-4)
