"""Lesson 05, solutions.

`python lessons/run_lessons.py --solutions 05` runs the notebook with each `# %% Exercise N`
block below in place of the exercise's cell, so every check must pass.
"""

# %% Exercise 1: the layer with tanh GELU
def layer_tanh_gelu(x, mask):
    """x: (B, L, H); mask: additive (B, 1, 1, L). Returns layer 1's output (encoder.layer[0]) (B, L, H) with the tanh GELU."""
    def gelu_tanh(t):
        return 0.5 * t * (1 + torch.tanh(math.sqrt(2 / math.pi) * (t + 0.044715 * t ** 3)))
    context, _ = layer.attention.self(x, mask)
    a = layer.attention.output.LayerNorm(x + layer.attention.output.dense(context))
    return layer.output.LayerNorm(a + layer.output.dense(gelu_tanh(layer.intermediate.dense(a))))


# %% Wrong 1: the tanh approximation without its cubic term
def layer_tanh_gelu(x, mask):
    def gelu_tanh(t):
        return 0.5 * t * (1 + torch.tanh(math.sqrt(2 / math.pi) * t))
    context, _ = layer.attention.self(x, mask)
    a = layer.attention.output.LayerNorm(x + layer.attention.output.dense(context))
    return layer.output.LayerNorm(a + layer.output.dense(gelu_tanh(layer.intermediate.dense(a))))


# %% Wrong 1: pre-LN: LayerNorm before each sub-layer instead of after the residual sum
def layer_tanh_gelu(x, mask):
    def gelu_tanh(t):
        return 0.5 * t * (1 + torch.tanh(math.sqrt(2 / math.pi) * (t + 0.044715 * t ** 3)))
    context, _ = layer.attention.self(layer.attention.output.LayerNorm(x), mask)
    a = x + layer.attention.output.dense(context)
    return a + layer.output.dense(gelu_tanh(layer.intermediate.dense(layer.output.LayerNorm(a))))


# %% Wrong 1: the feed-forward residual forgotten
def layer_tanh_gelu(x, mask):
    def gelu_tanh(t):
        return 0.5 * t * (1 + torch.tanh(math.sqrt(2 / math.pi) * (t + 0.044715 * t ** 3)))
    context, _ = layer.attention.self(x, mask)
    a = layer.attention.output.LayerNorm(x + layer.attention.output.dense(context))
    return layer.output.LayerNorm(layer.output.dense(gelu_tanh(layer.intermediate.dense(a))))


# %% Wrong 1: torch's tanh GELU in one call [says: written out]
def layer_tanh_gelu(x, mask):
    context, _ = layer.attention.self(x, mask)
    a = layer.attention.output.LayerNorm(x + layer.attention.output.dense(context))
    h = torch.nn.functional.gelu(layer.intermediate.dense(a), approximate="tanh")
    return layer.output.LayerNorm(a + layer.output.dense(h))


# %% Exercise 2: the parameters of a layer
def layer_parameters(H, I):
    """The number of weights and biases in one encoder layer."""
    attention = 4 * (H * H + H)            # query, key, value and the output projection W^O
    feed_forward = H * I + I + I * H + H   # H -> I and back
    layer_norms = 2 * 2 * H                # two LayerNorms, gamma and beta each
    return attention + feed_forward + layer_norms


# %% Wrong 2: the output projection W^O forgotten (it is in attention.output)
def layer_parameters(H, I):
    return 3 * (H * H + H) + H * I + I + I * H + H + 2 * 2 * H


# %% Wrong 2: the LayerNorms forgotten
def layer_parameters(H, I):
    return 4 * (H * H + H) + H * I + I + I * H + H


# %% Wrong 2: the biases forgotten
def layer_parameters(H, I):
    return 4 * H * H + 2 * H * I + 2 * 2 * H


# %% Questions
# 3. Pre-LN with the same weights:
#        ln1, ln2 = layer.attention.output.LayerNorm, layer.output.LayerNorm
#        a = x + layer.attention.output.dense(layer.attention.self(ln1(x), mask)[0])
#        y_pre = a + layer.output.dense(gelu(layer.intermediate.dense(ln2(a))))
#    It does not match: the weights were trained post-LN, as one function, and moving the LayerNorms changes
#    what every later matrix sees.
# 4. The feed-forward network: 2 H I + I + H = 1,181,568 of the layer's 1,774,464 parameters (two thirds),
#    against 4 (H^2 + H) = 591,360 for attention.
