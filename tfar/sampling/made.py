"""MADE's cached sampler: the first hidden layer's pre-activation, updated one dimension
per step.

A MADE pass costs O(D·E·H_1) in the first layer and O(H_L·D·P) in the output layer
(Germain et al. 2015, §4), and a step of the naive loop pays both to read the params of
one dimension. Step i needs only:

- the first layer's pre-activation a_1 = b_1 + Σ_{k<i} x_{o_k} W_1[o_k] (masked rows of
  the dimensions written so far): kept in the state, each step adds the newest
  dimension's E encoded features times its E masked rows, O(E·H_1), as NADE does
  (`tfar.sampling.nade`);
- the hidden layers above the first, in full (each reads all of the layer below), as
  h_1 = act(a_1 + conditional term), h_l = act(h_{l−1} W_l + b_l + conditional term);
- the params of the one dimension d sampled: its P columns of the masked output kernel,
  h_L W_out[:, d] + b_out[d], plus the direct connections' P columns applied to every
  input (MADE §4.3) and the conditional term's P columns.

So a step costs O(E·H_1 + Σ_l H_{l−1}·H_l + H_L·P (+ D·E·P with direct connections))
instead of O(D·E·H_1 + Σ_l H_{l−1}·H_l + H_L·D·P). Masked kernels are formed once per
call (`MaskedDense.masked_kernel`), not once per step as a full pass does.

An ensemble (num_masks M > 1) runs one such sampler per mask set on the rows that drew
it (`ComponentSampler`: rows partitioned once, params stitched back each step), so the
work per step is that of one mask set, whatever M.

Params equal the naive sampler's to float rounding (sums in another order), so both
draw the same samples from the same seed unless a draw falls within rounding of a
threshold (the tests check equality on random weights).
"""

import tensorflow as tf

from tfar import random
from tfar.layers.encoding import encode_values, encoding_size
from tfar.sampling.base import Sampler


class MADESampler(Sampler):
    """One mask set of a `tfar.models.made.MADENetwork`.

    State: (a_1 [n, H_1] — or [n, 0] without hidden layers —, the dimension written at
    the previous step [n], −1 before any).

    Args:
      network: the `MADENetwork`.
      conditional: [n, …] or None.
      mask_index: the mask set (None when the network holds one).
    """

    def __init__(self, network, conditional, mask_index=None):
        self._network = network
        self._conditional = conditional
        self._mask_index = mask_index

    def initial_state(self, x):
        net, m = self._network, self._mask_index
        n = tf.shape(x)[0]
        d, e, p = net.num_dims, encoding_size(net.num_values), net.params_size
        terms = [0.0] * (len(net.hidden_layers) + 1)
        if net.conditional_layers is not None:
            flat = tf.reshape(self._conditional, [n, net.conditional_size])
            terms = [tf.cast(layer(flat), tf.float32) for layer in net.conditional_layers]
        self._upper = [(layer, layer.masked_blocks(m), term)
                       for layer, term in zip(net.hidden_layers[1:], terms[1:-1])]
        out = net.output_layer
        width = out.input_degrees.shape[1]                         # H_L, or D·E
        self._output_columns = tf.transpose(
            tf.reshape(out.masked_kernel(m), [width, d, p]), [1, 0, 2])        # [D, H_L, P]
        self._output_bias = tf.reshape(out.bias, [d, p])
        self._output_term = (None if net.conditional_layers is None
                             else tf.reshape(terms[-1], [n, d, p]))
        self._direct_columns = (
            None if net.direct_layer is None else tf.transpose(
                tf.reshape(net.direct_layer.masked_kernel(m), [d * e, d, p]), [1, 0, 2]))
        if not net.hidden_layers:
            return tf.zeros([n, 0]), tf.fill([n], -1)
        first = net.hidden_layers[0]
        self._first_rows = tf.reshape(first.masked_kernel(m), [d, e, first.units])  # [D, E, H_1]
        a = tf.broadcast_to(tf.convert_to_tensor(first.bias) + terms[0], [n, first.units])
        return a, tf.fill([n], -1)

    def _features(self, x):
        """[n, D·E]: the encoded inputs, as the network's first layer sees them."""
        return tf.reshape(encode_values(x, self._network.num_values), [tf.shape(x)[0], -1])

    def step(self, state, i, units, x):
        net = self._network
        a, previous = state
        if net.hidden_layers:
            written = tf.maximum(previous, 0)
            value = tf.gather(x, written, batch_dims=1)[:, None]                     # [n, 1]
            features = encode_values(value, net.num_values)                       # [n, 1, E]
            rows = tf.gather(self._first_rows, written)                          # [n, E, H_1]
            # products summed by hand: a batched einsum costs ~50 µs a step on CPU
            updated = a + tf.reduce_sum(tf.transpose(features, [0, 2, 1]) * rows, axis=1)
            a = tf.where((previous >= 0)[:, None], updated, a)
            h = net.hidden_activation(a)
            for layer, blocks, term in self._upper:  # activation inside unless conditional
                h = layer.call_masked_blocks(h, blocks)
                if net.conditional_layers is not None:
                    h = net.hidden_activation(h + term)
        else:
            h = self._features(x)
        dims = units[:, 0]
        h = tf.cast(h, self._output_columns.dtype)   # the output layer computes in float32
        params = (tf.reduce_sum(h[:, :, None] * tf.gather(self._output_columns, dims), axis=1)
                  + tf.gather(self._output_bias, dims))                              # [n, P]
        if self._direct_columns is not None:
            params += tf.reduce_sum(self._features(x)[:, :, None]
                                    * tf.gather(self._direct_columns, dims), axis=1)
        if self._output_term is not None:
            params += tf.gather(self._output_term, dims, batch_dims=1)
        return params[:, None], (a, dims)


class ComponentSampler(Sampler):
    """Each row follows its own component's sampler: rows are partitioned by component
    once, each component's sampler steps on its rows, and params are stitched back.
    Under XLA (`tfar.random.xla`), which needs static shapes, each component's sampler
    steps on every row instead and each row keeps its component's params (M times the
    work, the same params).

    Args:
      make_sampler: (component m, conditional of its rows or None) -> a `Sampler`.
      num_components: M.
      conditional: [n, …] or None.
      components: int32 [n].
    """

    def __init__(self, make_sampler, num_components, conditional, components):
        self._components = components
        n = tf.shape(components)[0]
        self._rows = ([tf.range(n)] * num_components if random.in_xla() else
                      tf.dynamic_partition(tf.range(n), components, num_components))
        self._samplers = [
            make_sampler(m, None if conditional is None else tf.gather(conditional, rows))
            for m, rows in enumerate(self._rows)]

    def initial_state(self, x):
        return tuple(sampler.initial_state(tf.gather(x, rows))
                     for sampler, rows in zip(self._samplers, self._rows))

    def step(self, state, i, units, x):
        params, states = [], []
        for sampler, rows, sub_state in zip(self._samplers, self._rows, state):
            sub_params, sub_state = sampler.step(sub_state, i, tf.gather(units, rows),
                                                 tf.gather(x, rows))
            params.append(sub_params)
            states.append(sub_state)
        if random.in_xla():                          # row b: its component's [K, P]
            index = tf.stack([self._components, tf.range(tf.shape(self._components)[0])], -1)
            return tf.gather_nd(tf.stack(params), index), tuple(states)
        return tf.dynamic_stitch(self._rows, params), tuple(states)


def made_sampler(network, conditional, components):
    """The cached sampler of a `MADENetwork` for rows following mask sets `components` [n]."""
    if network.num_masks == 1:
        return MADESampler(network, conditional)
    return ComponentSampler(lambda m, c: MADESampler(network, c, m), network.num_masks,
                            conditional, components)
