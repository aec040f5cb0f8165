"""Data files shipped with xnn (see README.md here): the bundled CIFAR-10 sample."""
