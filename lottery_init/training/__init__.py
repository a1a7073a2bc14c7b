"""One population trained by one Trainer: built, trained, recorded, checkpointed, shown."""
