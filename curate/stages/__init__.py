"""Stage logic: plain Python over records, one package (or module) per kind of step. Each
stage class lives beside its logic; where a stage's logic spans several modules (sources,
generators, scoring), the class has a `stage.py` of its own.

    stage            class                   module
    list_inputs      ListInputs              sources/inputs.py
    read_parquet     ReadParquet             sources/datasets.py
    read_llava       ReadLlavaJson           sources/datasets.py
    llava_to_sample  LlavaToSample           sources/datasets.py
    render           RenderDocuments         sources/stage.py
    one_per_content  OnePerContent           sources/stage.py
    render_linked    RenderLinkedDocuments   sources/stage.py
    blank_pages      ScreenBlankPages        filters/quality.py
    hash, dedup      HashPages, DeduplicatePages  filters/dedup.py
    ocr              OcrPages                ocr/page.py
    text_density     ScreenTextDensity       filters/quality.py
    samples          AssembleSamples         samples.py
    language         ScreenLanguage          filters/quality.py
    generate         GenerateQA              generators/stage.py
    decontaminate    Decontaminate           filters/decontaminate.py
    score            ScoreSamples            scoring/stage.py
    filter           FilterSamples           filters/select.py

`curate/plan.py` puts them in order for each command.
"""
