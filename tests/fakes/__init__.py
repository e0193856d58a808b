"""Local protocol fakes: real HTTP servers on 127.0.0.1 that answer as the real services do
(OpenAI chat completions, Grobid, the Hugging Face Hub, the venue sites). Tests import them as
``fakes.<module>``; the modules import each other by plain name (``local_server``), so that
scripts/bench_generate.py can load them from this folder on sys.path as well."""
