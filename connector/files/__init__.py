"""Files the runtime reads and writes for long jobs: outputs, resume state and checkpoints."""
