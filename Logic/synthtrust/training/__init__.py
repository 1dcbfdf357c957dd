"""Training the shipped models: the cases they learn from (real images, and lesions placed and synthesized
by the template engine), segmenter training and validation, generator training, and the files each run
leaves (weights, config, loss curve, model card, manifest entry).

It sits above both ``synthtrust.segmentation`` and ``synthtrust.synthesis``: making training data uses the
synthesis engines, and the engines use segmenters, so neither package may hold the training data.
Importing the package stays light; torch loads with the training modules.
"""
