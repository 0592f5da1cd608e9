"""models: numpy sequence models with Cython inner loops (RNN, LSTM, neural stack/queue/deque)."""
