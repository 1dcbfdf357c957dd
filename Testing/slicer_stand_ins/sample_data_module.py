"""Slicer's SampleData module, for the part a module uses to add its own samples (``Modules/Scripted/
SampleData/SampleData.py``): ``SampleDataLogic.registerCustomSampleDataCategory`` and
``registerCustomSampleDataSource`` keep the sources in ``slicer.modules.sampleDataSources[category]`` (a
source already registered is not added twice), and a sample's button calls ``customDownloader(source)``.
Left out: downloading from URIs, checksums, the module's GUI."""

from __future__ import annotations

import types


class SampleDataSource:
    def __init__(self, sampleName=None, uris=None, fileNames=None, nodeNames=None,  # noqa: N803
                 thumbnailFileName=None, customDownloader=None, **unused):  # noqa: N803
        self.sampleName, self.uris, self.fileNames, self.nodeNames = sampleName, uris, fileNames, nodeNames
        self.thumbnailFileName, self.customDownloader = thumbnailFileName, customDownloader


class SampleDataLogic:
    @staticmethod
    def registerCustomSampleDataCategory(category, title):  # noqa: N802
        import slicer

        categories = slicer.modules.__dict__.setdefault("sampleDataSourceCategories", {})
        categories.setdefault(category, {})["title"] = title

    @staticmethod
    def registerCustomSampleDataSource(category="Custom", sampleName=None, uris=None, fileNames=None,  # noqa: N802, N803
                                       nodeNames=None, customDownloader=None, thumbnailFileName=None,  # noqa: N803
                                       **unused):
        import slicer

        sources = slicer.modules.__dict__.setdefault("sampleDataSources", {}).setdefault(category, [])
        if any(source.sampleName == sampleName for source in sources):
            return
        sources.append(SampleDataSource(sampleName, uris, fileNames, nodeNames, thumbnailFileName, customDownloader))

    @staticmethod
    def press(category: str, sampleName: str):  # noqa: N803 - what the sample's button does
        import slicer

        source = next(s for s in slicer.modules.sampleDataSources[category] if s.sampleName == sampleName)
        return source.customDownloader(source)


def sample_data_module() -> types.ModuleType:
    module = types.ModuleType("SampleData", __doc__)
    module.SampleDataLogic, module.SampleDataSource = SampleDataLogic, SampleDataSource
    return module
