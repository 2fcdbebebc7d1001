import numpy as np


def lossFun(inputs, targets, hprev):
    input_vectors = {}
    hidden_states = {}
    output_scores = {}
    probabilities = {}
    hidden_states[-1] = np.copy(hprev)
    total_loss = 0
    number_of_steps = len(inputs)
    for step in range(number_of_steps):
        input_vectors[step] = np.zeros((vocab_size, 1))
        input_vectors[step][inputs[step]] = 1
        input_part = np.dot(Wxh, input_vectors[step])
        recurrent_part = np.dot(Whh, hidden_states[step - 1])
        hidden_states[step] = np.tanh(input_part + recurrent_part + bh)
        output_scores[step] = np.dot(Why, hidden_states[step]) + by
        exponentials = np.exp(output_scores[step] - np.max(output_scores[step]))
        probabilities[step] = exponentials / np.sum(exponentials)
        correct_probability = probabilities[step][targets[step], 0]
        total_loss = total_loss - np.log(correct_probability)
    gradient_Wxh = np.zeros_like(Wxh)
    gradient_Whh = np.zeros_like(Whh)
    gradient_Why = np.zeros_like(Why)
    gradient_bh = np.zeros_like(bh)
    gradient_by = np.zeros_like(by)
    gradient_from_next_step = np.zeros_like(hidden_states[0])
    for step in reversed(range(number_of_steps)):
        output_error = np.copy(probabilities[step])
        output_error[targets[step]] = output_error[targets[step]] + 1
        gradient_Why = gradient_Why + np.dot(output_error, hidden_states[step].T)
        gradient_by = gradient_by + output_error
        hidden_state_gradient = np.dot(Why.T, output_error) + gradient_from_next_step
        tanh_derivative = 1 - hidden_states[step] * hidden_states[step]
        pre_activation_gradient = tanh_derivative * hidden_state_gradient
        gradient_bh = gradient_bh + pre_activation_gradient
        gradient_Wxh = gradient_Wxh + np.dot(pre_activation_gradient, input_vectors[step].T)
        gradient_Whh = gradient_Whh + np.dot(pre_activation_gradient, hidden_states[step - 1].T)
        gradient_from_next_step = np.dot(Whh.T, pre_activation_gradient)
    last_hidden_state = hidden_states[number_of_steps - 1]
    return (total_loss, gradient_Wxh, gradient_Whh, gradient_Why, gradient_bh, gradient_by,
            last_hidden_state)
