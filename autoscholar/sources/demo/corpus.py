"""The words of the offline demo corpus: arXiv facts, reference entries and four short papers.

Everything here is the project's own text, except the bibliographic facts about real arXiv
papers (id, title, authors, date of the first version, primary category), which must stay
true: the demo scores the pipeline against them.

Markup in paragraph text (CALLOUT below; rendered by render.py, read back by gold.py):
  {c:key1,key2}  a parenthetical callout: "[1, 2]" (numeric) or "(Smith et al., 2020; ...)"
  {t:key}        a textual callout: "[1]" (numeric) or "Smith et al. (2020)"
  ~              a hyphenation point inside a word, used when the word hits the line end
"""

from __future__ import annotations

import re

CALLOUT = re.compile(r"\{([ct]):([^}]*)\}")  # {c:keys} or {t:key}: (kind, comma-separated keys)

# ------------------------------------------------------------------ arXiv facts
# id -> (title as on arXiv, authors, first-version date, primary category).
# The time of day of the first version is not a fact we assert (gold.py uses 12:00:00 GMT)
# except where noted in ARXIV_TIMES.
ARXIV: dict[str, tuple[str, list[str], str, str]] = {
    # cited by the demo papers
    "1706.03762": ("Attention Is All You Need", ["Ashish Vaswani", "Noam Shazeer", "Niki Parmar", "Jakob Uszkoreit", "Llion Jones", "Aidan N. Gomez", "Lukasz Kaiser", "Illia Polosukhin"], "2017-06-12", "cs.CL"),
    "1810.04805": ("BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding", ["Jacob Devlin", "Ming-Wei Chang", "Kenton Lee", "Kristina Toutanova"], "2018-10-11", "cs.CL"),
    "1512.03385": ("Deep Residual Learning for Image Recognition", ["Kaiming He", "Xiangyu Zhang", "Shaoqing Ren", "Jian Sun"], "2015-12-10", "cs.CV"),
    "1412.6980": ("Adam: A Method for Stochastic Optimization", ["Diederik P. Kingma", "Jimmy Ba"], "2014-12-22", "cs.LG"),
    "2005.14165": ("Language Models are Few-Shot Learners", ["Tom B. Brown", "Benjamin Mann", "Nick Ryder", "Melanie Subbiah", "Jared Kaplan", "Prafulla Dhariwal", "Arvind Neelakantan", "Pranav Shyam", "Girish Sastry", "Amanda Askell", "Sandhini Agarwal", "Ariel Herbert-Voss", "Gretchen Krueger", "Tom Henighan", "Rewon Child", "Aditya Ramesh", "Daniel M. Ziegler", "Jeffrey Wu", "Clemens Winter", "Christopher Hesse", "Mark Chen", "Eric Sigler", "Mateusz Litwin", "Scott Gray", "Benjamin Chess", "Jack Clark", "Christopher Berner", "Sam McCandlish", "Alec Radford", "Ilya Sutskever", "Dario Amodei"], "2020-05-28", "cs.CL"),
    "2010.11929": ("An Image is Worth 16x16 Words: Transformers for Image Recognition at Scale", ["Alexey Dosovitskiy", "Lucas Beyer", "Alexander Kolesnikov", "Dirk Weissenborn", "Xiaohua Zhai", "Thomas Unterthiner", "Mostafa Dehghani", "Matthias Minderer", "Georg Heigold", "Sylvain Gelly", "Jakob Uszkoreit", "Neil Houlsby"], "2020-10-22", "cs.CV"),
    "1409.0473": ("Neural Machine Translation by Jointly Learning to Align and Translate", ["Dzmitry Bahdanau", "Kyunghyun Cho", "Yoshua Bengio"], "2014-09-01", "cs.CL"),
    "2004.04906": ("Dense Passage Retrieval for Open-Domain Question Answering", ["Vladimir Karpukhin", "Barlas Oğuz", "Sewon Min", "Patrick Lewis", "Ledell Wu", "Sergey Edunov", "Danqi Chen", "Wen-tau Yih"], "2020-04-10", "cs.CL"),
    "2005.11401": ("Retrieval-Augmented Generation for Knowledge-Intensive NLP Tasks", ["Patrick Lewis", "Ethan Perez", "Aleksandra Piktus", "Fabio Petroni", "Vladimir Karpukhin", "Naman Goyal", "Heinrich Küttler", "Mike Lewis", "Wen-tau Yih", "Tim Rocktäschel", "Sebastian Riedel", "Douwe Kiela"], "2020-05-22", "cs.CL"),
    "1301.3781": ("Efficient Estimation of Word Representations in Vector Space", ["Tomas Mikolov", "Kai Chen", "Greg Corrado", "Jeffrey Dean"], "2013-01-16", "cs.CL"),
    "1503.02531": ("Distilling the Knowledge in a Neural Network", ["Geoffrey Hinton", "Oriol Vinyals", "Jeff Dean"], "2015-03-09", "stat.ML"),
    "2106.09685": ("LoRA: Low-Rank Adaptation of Large Language Models", ["Edward J. Hu", "Yelong Shen", "Phillip Wallis", "Zeyuan Allen-Zhu", "Yuanzhi Li", "Shean Wang", "Weizhu Chen"], "2021-06-17", "cs.CL"),
    "1907.11692": ("RoBERTa: A Robustly Optimized BERT Pretraining Approach", ["Yinhan Liu", "Myle Ott", "Naman Goyal", "Jingfei Du", "Mandar Joshi", "Danqi Chen", "Omer Levy", "Mike Lewis", "Luke Zettlemoyer", "Veselin Stoyanov"], "2019-07-26", "cs.CL"),
    "1910.10683": ("Exploring the Limits of Transfer Learning with a Unified Text-to-Text Transformer", ["Colin Raffel", "Noam Shazeer", "Adam Roberts", "Katherine Lee", "Sharan Narang", "Michael Matena", "Yanqi Zhou", "Wei Li", "Peter J. Liu"], "2019-10-23", "cs.LG"),
    "1902.00751": ("Parameter-Efficient Transfer Learning for NLP", ["Neil Houlsby", "Andrei Giurgiu", "Stanislaw Jastrzebski", "Bruna Morrone", "Quentin de Laroussilhe", "Andrea Gesmundo", "Mona Attariyan", "Sylvain Gelly"], "2019-02-02", "cs.LG"),
    "2101.00190": ("Prefix-Tuning: Optimizing Continuous Prompts for Generation", ["Xiang Lisa Li", "Percy Liang"], "2021-01-01", "cs.CL"),
    "2104.08691": ("The Power of Scale for Parameter-Efficient Prompt Tuning", ["Brian Lester", "Rami Al-Rfou", "Noah Constant"], "2021-04-18", "cs.CL"),
    "2002.08909": ("REALM: Retrieval-Augmented Language Model Pre-Training", ["Kelvin Guu", "Kenton Lee", "Zora Tung", "Panupong Pasupat", "Ming-Wei Chang"], "2020-02-10", "cs.CL"),
    "1704.00051": ("Reading Wikipedia to Answer Open-Domain Questions", ["Danqi Chen", "Adam Fisch", "Jason Weston", "Antoine Bordes"], "2017-03-31", "cs.CL"),
    "1606.05250": ("SQuAD: 100,000+ Questions for Machine Comprehension of Text", ["Pranav Rajpurkar", "Jian Zhang", "Konstantin Lopyrev", "Percy Liang"], "2016-06-16", "cs.CL"),
    "1705.03551": ("TriviaQA: A Large Scale Distantly Supervised Challenge Dataset for Reading Comprehension", ["Mandar Joshi", "Eunsol Choi", "Daniel S. Weld", "Luke Zettlemoyer"], "2017-05-09", "cs.CL"),
    "1409.1556": ("Very Deep Convolutional Networks for Large-Scale Image Recognition", ["Karen Simonyan", "Andrew Zisserman"], "2014-09-04", "cs.CV"),
    "1608.06993": ("Densely Connected Convolutional Networks", ["Gao Huang", "Zhuang Liu", "Laurens van der Maaten", "Kilian Q. Weinberger"], "2016-08-25", "cs.CV"),
    "1905.11946": ("EfficientNet: Rethinking Model Scaling for Convolutional Neural Networks", ["Mingxing Tan", "Quoc V. Le"], "2019-05-28", "cs.LG"),
    "2012.12877": ("Training data-efficient image transformers & distillation through attention", ["Hugo Touvron", "Matthieu Cord", "Matthijs Douze", "Francisco Massa", "Alexandre Sablayrolles", "Hervé Jégou"], "2020-12-23", "cs.CV"),
    "2103.14030": ("Swin Transformer: Hierarchical Vision Transformer using Shifted Windows", ["Ze Liu", "Yutong Lin", "Yue Cao", "Han Hu", "Yixuan Wei", "Zheng Zhang", "Stephen Lin", "Baining Guo"], "2021-03-25", "cs.CV"),
    "1502.03167": ("Batch Normalization: Accelerating Deep Network Training by Reducing Internal Covariate Shift", ["Sergey Ioffe", "Christian Szegedy"], "2015-02-11", "cs.LG"),
    "1409.3215": ("Sequence to Sequence Learning with Neural Networks", ["Ilya Sutskever", "Oriol Vinyals", "Quoc V. Le"], "2014-09-10", "cs.CL"),
    "1406.1078": ("Learning Phrase Representations using RNN Encoder-Decoder for Statistical Machine Translation", ["Kyunghyun Cho", "Bart van Merrienboer", "Caglar Gulcehre", "Dzmitry Bahdanau", "Fethi Bougares", "Holger Schwenk", "Yoshua Bengio"], "2014-06-03", "cs.CL"),
    "1508.04025": ("Effective Approaches to Attention-based Neural Machine Translation", ["Minh-Thang Luong", "Hieu Pham", "Christopher D. Manning"], "2015-08-17", "cs.CL"),
    "1508.07909": ("Neural Machine Translation of Rare Words with Subword Units", ["Rico Sennrich", "Barry Haddow", "Alexandra Birch"], "2015-08-31", "cs.CL"),
    "1802.05365": ("Deep contextualized word representations", ["Matthew E. Peters", "Mark Neumann", "Mohit Iyyer", "Matt Gardner", "Christopher Clark", "Kenton Lee", "Luke Zettlemoyer"], "2018-02-15", "cs.CL"),
    "1607.06450": ("Layer Normalization", ["Jimmy Lei Ba", "Jamie Ryan Kiros", "Geoffrey E. Hinton"], "2016-07-21", "stat.ML"),
    # distractors: similar titles, same authors, or simply not cited by the demo
    "1902.10186": ("Attention is not Explanation", ["Sarthak Jain", "Byron C. Wallace"], "2019-02-26", "cs.CL"),
    "1908.04626": ("Attention is not not Explanation", ["Sarah Wiegreffe", "Yuval Pinter"], "2019-08-13", "cs.CL"),
    "2103.03404": ("Attention is Not All You Need: Pure Attention Loses Rank Doubly Exponentially with Depth", ["Yihe Dong", "Jean-Baptiste Cordonnier", "Andreas Loukas"], "2021-03-05", "cs.LG"),
    "1905.05950": ("BERT Rediscovers the Classical NLP Pipeline", ["Ian Tenney", "Dipanjan Das", "Ellie Pavlick"], "2019-05-15", "cs.CL"),
    "1910.01108": ("DistilBERT, a distilled version of BERT: smaller, faster, cheaper and lighter", ["Victor Sanh", "Lysandre Debut", "Julien Chaumond", "Thomas Wolf"], "2019-10-02", "cs.CL"),
    "1909.11942": ("ALBERT: A Lite BERT for Self-supervised Learning of Language Representations", ["Zhenzhong Lan", "Mingda Chen", "Sebastian Goodman", "Kevin Gimpel", "Piyush Sharma", "Radu Soricut"], "2019-09-26", "cs.CL"),
    "1906.08237": ("XLNet: Generalized Autoregressive Pretraining for Language Understanding", ["Zhilin Yang", "Zihang Dai", "Yiming Yang", "Jaime Carbonell", "Ruslan Salakhutdinov", "Quoc V. Le"], "2019-06-19", "cs.CL"),
    "1901.02860": ("Transformer-XL: Attentive Language Models Beyond a Fixed-Length Context", ["Zihang Dai", "Zhilin Yang", "Yiming Yang", "Jaime Carbonell", "Quoc V. Le", "Ruslan Salakhutdinov"], "2019-01-09", "cs.LG"),
    "2001.08361": ("Scaling Laws for Neural Language Models", ["Jared Kaplan", "Sam McCandlish", "Tom Henighan", "Tom B. Brown", "Benjamin Chess", "Rewon Child", "Scott Gray", "Alec Radford", "Jeffrey Wu", "Dario Amodei"], "2020-01-23", "cs.LG"),
    "1711.05101": ("Decoupled Weight Decay Regularization", ["Ilya Loshchilov", "Frank Hutter"], "2017-11-14", "cs.LG"),
    "1608.03983": ("SGDR: Stochastic Gradient Descent with Warm Restarts", ["Ilya Loshchilov", "Frank Hutter"], "2016-08-13", "cs.LG"),
    "1904.09237": ("On the Convergence of Adam and Beyond", ["Sashank J. Reddi", "Satyen Kale", "Sanjiv Kumar"], "2019-04-19", "cs.LG"),
    "1603.05027": ("Identity Mappings in Deep Residual Networks", ["Kaiming He", "Xiangyu Zhang", "Shaoqing Ren", "Jian Sun"], "2016-03-16", "cs.CV"),
    "1910.13461": ("BART: Denoising Sequence-to-Sequence Pre-training for Natural Language Generation, Translation, and Comprehension", ["Mike Lewis", "Yinhan Liu", "Naman Goyal", "Marjan Ghazvininejad", "Abdelrahman Mohamed", "Omer Levy", "Ves Stoyanov", "Luke Zettlemoyer"], "2019-10-29", "cs.CL"),
    "1908.10084": ("Sentence-BERT: Sentence Embeddings using Siamese BERT-Networks", ["Nils Reimers", "Iryna Gurevych"], "2019-08-27", "cs.CL"),
    "2007.01282": ("Leveraging Passage Retrieval with Generative Models for Open Domain Question Answering", ["Gautier Izacard", "Edouard Grave"], "2020-07-02", "cs.CL"),
    "2004.12832": ("ColBERT: Efficient and Effective Passage Search via Contextualized Late Interaction over BERT", ["Omar Khattab", "Matei Zaharia"], "2020-04-27", "cs.IR"),
    "2104.08663": ("BEIR: A Heterogenous Benchmark for Zero-shot Evaluation of Information Retrieval Models", ["Nandan Thakur", "Nils Reimers", "Andreas Rücklé", "Abhishek Srivastava", "Iryna Gurevych"], "2021-04-17", "cs.IR"),
    "2112.09118": ("Unsupervised Dense Information Retrieval with Contrastive Learning", ["Gautier Izacard", "Mathilde Caron", "Lucas Hosseini", "Sebastian Riedel", "Piotr Bojanowski", "Armand Joulin", "Edouard Grave"], "2021-12-16", "cs.IR"),
    "2103.00020": ("Learning Transferable Visual Models From Natural Language Supervision", ["Alec Radford", "Jong Wook Kim", "Chris Hallacy", "Aditya Ramesh", "Gabriel Goh", "Sandhini Agarwal", "Girish Sastry", "Amanda Askell", "Pamela Mishkin", "Jack Clark", "Gretchen Krueger", "Ilya Sutskever"], "2021-02-26", "cs.CV"),
    "2201.11903": ("Chain-of-Thought Prompting Elicits Reasoning in Large Language Models", ["Jason Wei", "Xuezhi Wang", "Dale Schuurmans", "Maarten Bosma", "Brian Ichter", "Fei Xia", "Ed Chi", "Quoc Le", "Denny Zhou"], "2022-01-28", "cs.CL"),
    "2305.14314": ("QLoRA: Efficient Finetuning of Quantized LLMs", ["Tim Dettmers", "Artidoro Pagnoni", "Ari Holtzman", "Luke Zettlemoyer"], "2023-05-23", "cs.LG"),
    "1310.4546": ("Distributed Representations of Words and Phrases and their Compositionality", ["Tomas Mikolov", "Ilya Sutskever", "Kai Chen", "Greg Corrado", "Jeffrey Dean"], "2013-10-16", "cs.CL"),
    "1611.01603": ("Bidirectional Attention Flow for Machine Comprehension", ["Minjoon Seo", "Aniruddha Kembhavi", "Ali Farhadi", "Hannaneh Hajishirzi"], "2016-11-05", "cs.CL"),
    "1804.07461": ("GLUE: A Multi-Task Benchmark and Analysis Platform for Natural Language Understanding", ["Alex Wang", "Amanpreet Singh", "Julian Michael", "Felix Hill", "Omer Levy", "Samuel R. Bowman"], "2018-04-20", "cs.CL"),
    "1506.02640": ("You Only Look Once: Unified, Real-Time Object Detection", ["Joseph Redmon", "Santosh Divvala", "Ross Girshick", "Ali Farhadi"], "2015-06-08", "cs.CV"),
    "1506.01497": ("Faster R-CNN: Towards Real-Time Object Detection with Region Proposal Networks", ["Shaoqing Ren", "Kaiming He", "Ross Girshick", "Jian Sun"], "2015-06-04", "cs.CV"),
    "1412.3555": ("Empirical Evaluation of Gated Recurrent Neural Networks on Sequence Modeling", ["Junyoung Chung", "Caglar Gulcehre", "KyungHyun Cho", "Yoshua Bengio"], "2014-12-11", "cs.NE"),
    "1612.00796": ("Overcoming catastrophic forgetting in neural networks", ["James Kirkpatrick", "Razvan Pascanu", "Neil Rabinowitz", "Joel Veness", "Guillaume Desjardins", "Andrei A. Rusu", "Kieran Milan", "John Quan", "Tiago Ramalho", "Agnieszka Grabska-Barwinska", "Demis Hassabis", "Claudia Clopath", "Dharshan Kumaran", "Raia Hadsell"], "2016-12-02", "cs.LG"),
    "1406.2661": ("Generative Adversarial Networks", ["Ian J. Goodfellow", "Jean Pouget-Abadie", "Mehdi Mirza", "Bing Xu", "David Warde-Farley", "Sherjil Ozair", "Aaron Courville", "Yoshua Bengio"], "2014-06-10", "stat.ML"),
    "1312.6114": ("Auto-Encoding Variational Bayes", ["Diederik P Kingma", "Max Welling"], "2013-12-20", "stat.ML"),
    "2006.11239": ("Denoising Diffusion Probabilistic Models", ["Jonathan Ho", "Ajay Jain", "Pieter Abbeel"], "2020-06-19", "cs.LG"),
}

# First-version times we know to the second; the others get a neutral 12:00:00.
ARXIV_TIMES = {"1706.03762": "17:57:34"}

# ------------------------------------------------------------------ reference entries
# key -> entry. "authors" is what the entry prints (et_al: the list is cut with "et al.");
# "cite" is the surname form used in author-year callouts; "arxiv" is the fact used as gold
# (None: the work is not on arXiv); "extra" is what the entry prints after the venue.
REFS: dict[str, dict] = {
    "vaswani2017": dict(authors=["Ashish Vaswani", "Noam Shazeer", "Niki Parmar", "Jakob Uszkoreit", "Llion Jones", "Aidan N. Gomez", "Lukasz Kaiser", "Illia Polosukhin"], cite="Vaswani et al.", year=2017, title="Attention is all you need", venue="In Advances in Neural Information Processing Systems 30, pages 5998-6008", arxiv="1706.03762"),
    "devlin2019": dict(authors=["Jacob Devlin", "Ming-Wei Chang", "Kenton Lee", "Kristina Toutanova"], cite="Devlin et al.", year=2019, title="BERT: Pre-training of deep bidirectional transformers for language understanding", venue="In Proceedings of NAACL-HLT", arxiv="1810.04805"),
    "devlin2019doi": dict(authors=["Jacob Devlin", "Ming-Wei Chang", "Kenton Lee", "Kristina Toutanova"], cite="Devlin et al.", year=2019, title="BERT: Pre-training of deep bidirectional transformers for language understanding", venue="In Proceedings of the 2019 Conference of the North American Chapter of the Association for Computational Linguistics, pages 4171-4186", extra="doi:10.18653/v1/N19-1423", arxiv="1810.04805"),
    "liu2019": dict(authors=["Yinhan Liu", "Myle Ott", "Naman Goyal", "Jingfei Du", "Mandar Joshi", "Danqi Chen", "Omer Levy", "Mike Lewis", "Luke Zettlemoyer", "Veselin Stoyanov"], cite="Liu et al.", year=2019, title="RoBERTa: A robustly optimized BERT pretraining approach", venue="arXiv preprint", extra="arXiv:1907.11692", arxiv="1907.11692"),
    "raffel2020": dict(authors=["Colin Raffel", "Noam Shazeer", "Adam Roberts", "Katherine Lee", "Sharan Narang", "Michael Matena", "Yanqi Zhou", "Wei Li", "Peter J. Liu"], cite="Raffel et al.", year=2020, title="Exploring the limits of transfer learning with a unified text-to-text transformer", venue="Journal of Machine Learning Research, 21(140):1-67", arxiv="1910.10683"),
    "brown2020": dict(authors=["Tom B. Brown", "Benjamin Mann", "Nick Ryder", "Melanie Subbiah"], et_al=True, cite="Brown et al.", year=2020, title="Language models are few-shot learners", venue="In Advances in Neural Information Processing Systems 33", extra="URL https://arxiv.org/abs/2005.14165", arxiv="2005.14165"),
    "houlsby2019": dict(authors=["Neil Houlsby", "Andrei Giurgiu", "Stanislaw Jastrzebski", "Bruna Morrone", "Quentin de Laroussilhe", "Andrea Gesmundo", "Mona Attariyan", "Sylvain Gelly"], cite="Houlsby et al.", year=2019, title="Parameter-efficient transfer learning for NLP", venue="In Proceedings of the 36th International Conference on Machine Learning, pages 2790-2799", arxiv="1902.00751"),
    "li2021": dict(authors=["Xiang Lisa Li", "Percy Liang"], cite="Li and Liang", year=2021, title="Prefix-tuning: Optimizing continuous prompts for generation", venue="In Proceedings of ACL-IJCNLP, pages 4582-4597", arxiv="2101.00190"),
    "lester2021": dict(authors=["Brian Lester", "Rami Al-Rfou", "Noah Constant"], cite="Lester et al.", year=2021, title="The power of scale for parameter-efficient prompt tuning", venue="In Proceedings of EMNLP, pages 3045-3059", arxiv="2104.08691"),
    "hu2022": dict(authors=["Edward J. Hu", "Yelong Shen", "Phillip Wallis", "Zeyuan Allen-Zhu", "Yuanzhi Li", "Shean Wang", "Lu Wang", "Weizhu Chen"], cite="Hu et al.", year=2022, title="LoRA: Low-rank adaptation of large language models", venue="In International Conference on Learning Representations", extra="arXiv:2106.09685", arxiv="2106.09685"),
    "hinton2015": dict(authors=["Geoffrey Hinton", "Oriol Vinyals", "Jeff Dean"], cite="Hinton et al.", year=2015, title="Distilling the knowledge in a neural network", venue="NIPS Deep Learning and Representation Learning Workshop", extra="arXiv:1503.02531", arxiv="1503.02531"),
    "goodfellow2016": dict(authors=["Ian Goodfellow", "Yoshua Bengio", "Aaron Courville"], cite="Goodfellow et al.", year=2016, title="Deep Learning", venue="MIT Press", arxiv=None),
    "chen2017": dict(authors=["Danqi Chen", "Adam Fisch", "Jason Weston", "Antoine Bordes"], cite="Chen et al.", year=2017, title="Reading Wikipedia to answer open-domain questions", venue="In Proceedings of the 55th Annual Meeting of the Association for Computational Linguistics, pages 1870-1879", arxiv="1704.00051"),
    "robertson2009": dict(authors=["Stephen Robertson", "Hugo Zaragoza"], cite="Robertson and Zaragoza", year=2009, title="The probabilistic relevance framework: BM25 and beyond", venue="Foundations and Trends in Information Retrieval, 3(4):333-389", arxiv=None),
    "karpukhin2020": dict(authors=["Vladimir Karpukhin", "Barlas Oguz", "Sewon Min", "Patrick Lewis", "Ledell Wu", "Sergey Edunov", "Danqi Chen", "Wen-tau Yih"], cite="Karpukhin et al.", year=2020, title="Dense passage retrieval for open-domain question answering", venue="arXiv preprint", extra="arXiv:2004.04906", arxiv="2004.04906"),
    "guu2020": dict(authors=["Kelvin Guu", "Kenton Lee", "Zora Tung", "Panupong Pasupat", "Ming-Wei Chang"], cite="Guu et al.", year=2020, title="REALM: Retrieval-augmented language model pre-training", venue="arXiv preprint", extra="arXiv:2002.08909", arxiv="2002.08909"),
    "lewis2020": dict(authors=["Patrick Lewis", "Ethan Perez", "Aleksandra Piktus", "Fabio Petroni", "Vladimir Karpukhin", "Naman Goyal", "Heinrich Küttler", "Mike Lewis", "Wen-tau Yih", "Tim Rocktäschel", "Sebastian Riedel", "Douwe Kiela"], cite="Lewis et al.", year=2020, title="Retrieval-augmented generation for knowledge-intensive NLP tasks", venue="arXiv preprint", extra="arXiv:2005.11401", arxiv="2005.11401"),
    "rajpurkar2016": dict(authors=["Pranav Rajpurkar", "Jian Zhang", "Konstantin Lopyrev", "Percy Liang"], cite="Rajpurkar et al.", year=2016, title="SQuAD: 100,000+ questions for machine comprehension of text", venue="In Proceedings of EMNLP, pages 2383-2392", arxiv="1606.05250"),
    "joshi2017": dict(authors=["Mandar Joshi", "Eunsol Choi", "Daniel S. Weld", "Luke Zettlemoyer"], cite="Joshi et al.", year=2017, title="TriviaQA: A large scale distantly supervised challenge dataset for reading comprehension", venue="In Proceedings of ACL, pages 1601-1611", arxiv="1705.03551"),
    "he2016": dict(authors=["Kaiming He", "Xiangyu Zhang", "Shaoqing Ren", "Jian Sun"], cite="He et al.", year=2016, title="Deep residual learning for image recognition", venue="In Proceedings of the IEEE Conference on Computer Vision and Pattern Recognition (CVPR), pages 770-778", arxiv="1512.03385"),
    "simonyan2015": dict(authors=["Karen Simonyan", "Andrew Zisserman"], cite="Simonyan and Zisserman", year=2015, title="Very deep convolutional networks for large-scale image recognition", venue="In International Conference on Learning Representations", extra="arXiv:1409.1556", arxiv="1409.1556"),
    "huang2017": dict(authors=["Gao Huang", "Zhuang Liu", "Laurens van der Maaten", "Kilian Q. Weinberger"], cite="Huang et al.", year=2017, title="Densely connected convolutional networks", venue="In CVPR, pages 4700-4708", arxiv="1608.06993"),
    "tan2019": dict(authors=["Mingxing Tan", "Quoc V. Le"], cite="Tan and Le", year=2019, title="EfficientNet: Rethinking model scaling for convolutional neural networks", venue="In ICML, pages 6105-6114", arxiv="1905.11946"),
    "dosovitskiy2021": dict(authors=["Alexey Dosovitskiy", "Lucas Beyer", "Alexander Kolesnikov", "Dirk Weissenborn", "Xiaohua Zhai", "Thomas Unterthiner", "Mostafa Dehghani", "Matthias Minderer", "Georg Heigold", "Sylvain Gelly", "Jakob Uszkoreit", "Neil Houlsby"], cite="Dosovitskiy et al.", year=2021, title="An image is worth 16x16 words: Transformers for image recognition at scale", venue="In ICLR", arxiv="2010.11929"),
    "touvron2021": dict(authors=["Hugo Touvron", "Matthieu Cord", "Matthijs Douze", "Francisco Massa", "Alexandre Sablayrolles", "Hervé Jégou"], cite="Touvron et al.", year=2021, title="Training data-efficient image transformers & distillation through attention", venue="In ICML, pages 10347-10357", arxiv="2012.12877"),
    "liu2021": dict(authors=["Ze Liu", "Yutong Lin", "Yue Cao", "Han Hu", "Yixuan Wei", "Zheng Zhang", "Stephen Lin", "Baining Guo"], cite="Liu et al.", year=2021, title="Swin transformer: Hierarchical vision transformer using shifted windows", venue="arXiv preprint", extra="arXiv:2103.14030", arxiv="2103.14030"),
    "ioffe2015": dict(authors=["Sergey Ioffe", "Christian Szegedy"], cite="Ioffe and Szegedy", year=2015, title="Batch normalization: Accelerating deep network training by reducing internal covariate shift", venue="In ICML, pages 448-456", arxiv="1502.03167"),
    "hochreiter1997": dict(authors=["Sepp Hochreiter", "Jürgen Schmidhuber"], cite="Hochreiter and Schmidhuber", year=1997, title="Long short-term memory", venue="Neural Computation, 9(8):1735-1780", arxiv=None),
    "krizhevsky2012": dict(authors=["Alex Krizhevsky", "Ilya Sutskever", "Geoffrey E. Hinton"], cite="Krizhevsky et al.", year=2012, title="ImageNet classification with deep convolutional neural networks", venue="In Advances in Neural Information Processing Systems 25, pages 1097-1105", arxiv=None),
    "kingma2015": dict(authors=["Diederik P. Kingma", "Jimmy Ba"], cite="Kingma and Ba", year=2015, title="Adam: A method for stochastic optimization", venue="In International Conference on Learning Representations", arxiv="1412.6980"),
    "sutskever2014": dict(authors=["Ilya Sutskever", "Oriol Vinyals", "Quoc V. Le"], cite="Sutskever et al.", year=2014, title="Sequence to sequence learning with neural networks", venue="In Advances in Neural Information Processing Systems 27, pages 3104-3112", arxiv="1409.3215"),
    "cho2014": dict(authors=["Kyunghyun Cho", "Bart van Merrienboer", "Caglar Gulcehre", "Dzmitry Bahdanau", "Fethi Bougares", "Holger Schwenk", "Yoshua Bengio"], cite="Cho et al.", year=2014, title="Learning phrase representations using RNN encoder-decoder for statistical machine translation", venue="In Proceedings of EMNLP, pages 1724-1734", arxiv="1406.1078"),
    "bahdanau2015": dict(authors=["Dzmitry Bahdanau", "Kyunghyun Cho", "Yoshua Bengio"], cite="Bahdanau et al.", year=2015, title="Neural machine translation by jointly learning to align and translate", venue="In International Conference on Learning Representations", extra="arXiv:1409.0473", arxiv="1409.0473"),
    "luong2015": dict(authors=["Minh-Thang Luong", "Hieu Pham", "Christopher D. Manning"], cite="Luong et al.", year=2015, title="Effective approaches to attention-based neural machine translation", venue="In Proceedings of EMNLP, pages 1412-1421", arxiv="1508.04025"),
    "sennrich2016": dict(authors=["Rico Sennrich", "Barry Haddow", "Alexandra Birch"], cite="Sennrich et al.", year=2016, title="Neural machine translation of rare words with subword units", venue="In Proceedings of ACL, pages 1715-1725", arxiv="1508.07909"),
    "koehn2010": dict(authors=["Philipp Koehn"], cite="Koehn", year=2010, title="Statistical Machine Translation", venue="Cambridge University Press", arxiv=None),
    "mikolov2013": dict(authors=["Tomas Mikolov", "Kai Chen", "Greg Corrado", "Jeffrey Dean"], cite="Mikolov et al.", year=2013, title="Efficient estimation of word representations in vector space", venue="arXiv preprint", extra="arXiv:1301.3781", arxiv="1301.3781"),
    "peters2018": dict(authors=["Matthew E. Peters", "Mark Neumann", "Mohit Iyyer", "Matt Gardner", "Christopher Clark", "Kenton Lee", "Luke Zettlemoyer"], cite="Peters et al.", year=2018, title="Deep contextualized word representations", venue="In Proceedings of NAACL-HLT, pages 2227-2237", arxiv="1802.05365"),
    "ba2016": dict(authors=["Jimmy Lei Ba", "Jamie Ryan Kiros", "Geoffrey E. Hinton"], cite="Ba et al.", year=2016, title="Layer normalization", venue="arXiv preprint", extra="arXiv:1607.06450", arxiv="1607.06450"),
}

# ------------------------------------------------------------------ the papers
# Section dicts: heading (as printed, number included), number, title, paragraphs,
# subsections; "related": True marks the section the demo's gold is about.

PAPERS: list[dict] = [
    dict(
        paper_id="demo-001",
        title="Sparse Adapter Routing for Parameter-Efficient Fine-Tuning",
        authors=["Mara Lindqvist", "Tomasz Okafor", "Priya Raghunathan"],
        affiliation="Autoscholar Demo Lab, University of Nowhere",
        published="2022-06-15",
        style="numeric",
        columns=1,
        running_head="Sparse Adapter Routing for Parameter-Efficient Fine-Tuning",
        page_number="bottom",
        abstract=(
            "Fine-tuning every weight of a large pretrained language model for each downstream "
            "task is expensive in memory and storage. We propose sparse adapter routing, which "
            "keeps a pool of small adapters and learns to route every token to two of them. On "
            "eight classification and generation benchmarks our method matches full fine-tuning "
            "while training fewer than one percent of the parameters."
        ),
        sections=[
            dict(heading="1 Introduction", paragraphs=[
                "Pretrained language models {c:devlin2019,liu2019} are now adapted to new tasks by "
                "fine-tuning, but storing a full copy of the model per task does not scale. "
                "Parameter-efficient methods train a small set of new weights instead.",
                "We ask whether the added capacity can be shared across tasks. Our answer is a "
                "router that selects a few adapters per token, so related tasks reuse the same "
                "modules while unrelated tasks stay apart.",
            ]),
            dict(heading="2 Related Work", related=True, paragraphs=[
                "This section reviews pretrained models and the methods that adapt them cheaply.",
            ], subsections=[
                dict(heading="2.1 Pretrained language models", paragraphs=[
                    "Large pretrained Trans~formers {c:vaswani2017} have become the default "
                    "starting point for natural language processing. Masked language model "
                    "pre~training, as in BERT {c:devlin2019} and its robustly tuned successor "
                    "{c:liu2019}, learns bidirec~tional representations from unlabeled text. "
                    "Encoder-decoder models cast every task as text-to-text genera~tion "
                    "{c:raffel2020}, while sufficiently large decoder-only models solve new tasks "
                    "from a handful of demon~strations {c:brown2020}. Textbook treatments of "
                    "represen~tation learning {c:goodfellow2016} explain why such features "
                    "transfer across domains.",
                ]),
                dict(heading="2.2 Parameter-efficient fine-tuning", paragraphs=[
                    "Instead of updating all weights, several methods train a small number of "
                    "added param~eters {c:houlsby2019,li2021,lester2021,hu2022}. Adapter layers "
                    "insert small bottle~neck modules between the sublayers of each block "
                    "{c:houlsby2019}. Prefix and prompt tuning prepend trainable contin~uous "
                    "vectors to the input or to every layer {c:li2021,lester2021}. Low-rank "
                    "adaptation learns a rank-decom~posed update of the frozen weight matrices "
                    "{c:hu2022}, which adds no inference latency after merging.",
                    "Knowledge distillation {c:hinton2015} offers a comple~mentary route that "
                    "compresses a fine-tuned teacher into a smaller student, and it can be "
                    "combined with any of the methods above.",
                ]),
            ]),
            dict(heading="3 Method", paragraphs=[
                "Each Transformer block holds a pool of K adapters. A linear router scores the "
                "adapters from the token representation and the two highest-scoring adapters "
                "are applied, weighted by a softmax over their scores. A load-balancing term "
                "keeps the router from collapsing onto a single adapter.",
                "We train with the optimizer settings of {t:liu2019} and keep the backbone "
                "frozen throughout.",
            ]),
            dict(heading="4 Conclusion", paragraphs=[
                "Routing tokens to a few shared adapters recovers the quality of full "
                "fine-tuning at a fraction of the trainable parameters.",
            ]),
        ],
        references=["devlin2019", "liu2019", "raffel2020", "brown2020", "houlsby2019", "li2021",
                    "lester2021", "hu2022", "hinton2015", "goodfellow2016", "vaswani2017"],
    ),
    dict(
        paper_id="demo-002",
        title="Answer-Aware Passage Selection for Open-Domain Question Answering",
        authors=["Ines Carvalho", "David Mensah"],
        affiliation="Autoscholar Demo Institute",
        published="2020-04-20",
        style="author-year",
        columns=2,
        running_head="Proceedings of the Autoscholar Demo Workshop 2020",
        page_number="header",
        abstract=(
            "Open-domain question answering retrieves passages from a large corpus and reads "
            "them to extract an answer. We show that a light answer-aware selector placed "
            "between the retriever and the reader removes most distracting passages and "
            "improves exact match on two benchmarks without retraining either component."
        ),
        sections=[
            dict(heading="1 Introduction", paragraphs=[
                "Answering factoid questions over Wikipedia requires finding a few relevant "
                "passages among millions {c:chen2017}. Readers are sensitive to distracting "
                "passages, so the quality of the retrieved set matters as much as its recall.",
                "We add a selector that re-scores retrieved passages by how likely they are to "
                "contain an answer span, and we keep both the retriever and the reader fixed.",
            ]),
            dict(heading="2 Background and Related Work", related=True, paragraphs=[
                "Open-domain question answering systems typically pair a retriever with a "
                "neural reader {c:chen2017}. Classical sparse retrieval scores documents with "
                "term statis~tics such as BM25 {c:robertson2009}, which remains a strong "
                "baseline. {t:karpukhin2020} showed that dense passage embed~dings trained with "
                "in-batch negatives outperform sparse retrieval on several open-domain "
                "bench~marks.",
                "Both the retriever and the reader are usually initial~ized from a pretrained "
                "encoder {c:devlin2019doi,vaswani2017}. Retrieval can also be learned jointly "
                "with language model pretraining {c:guu2020}, or coupled to a sequence-to-"
                "sequence generator that margin~alizes over the retrieved passages "
                "{c:lewis2020}.",
                "Reading compre~hension benchmarks such as SQuAD {c:rajpurkar2016} and TriviaQA "
                "{c:joshi2017} are commonly adapted to the open setting by discarding the gold "
                "paragraph and retrieving from the whole of Wikipedia.",
            ]),
            dict(heading="3 Answer-Aware Selection", paragraphs=[
                "Given a question and the top one hundred passages, the selector encodes each "
                "pair with a small cross-encoder and predicts whether the passage contains an "
                "answer. Only the ten highest-scoring passages are passed to the reader. The "
                "selector is trained on distant supervision: a passage is positive when it "
                "contains a normalized answer string.",
                "The selector shares its vocabulary with the reader so that no new tokenizer "
                "is needed at inference time.",
            ]),
            dict(heading="4 Experiments", paragraphs=[
                "On both benchmarks the selector improves exact match by two to three points "
                "over the same retriever and reader without it, and it reduces the reading time "
                "per question by a factor of ten because fewer passages are read.",
            ]),
        ],
        references=["chen2017", "devlin2019doi", "guu2020", "joshi2017", "karpukhin2020",
                    "lewis2020", "rajpurkar2016", "robertson2009", "vaswani2017"],
    ),
    dict(
        paper_id="demo-003",
        title="Hybrid Convolution-Attention Backbones for Data-Efficient Image Classification",
        authors=["Yuki Hanamura", "Olga Petrenko", "Samuel Adeyemi", "Lena Vogt"],
        affiliation="Autoscholar Demo Vision Group",
        published="2021-10-01",
        style="numeric",
        columns=2,
        running_head="Hybrid Convolution-Attention Backbones",
        references_heading="REFERENCES",
        page_number="bottom",
        abstract=(
            "Vision Transformers reach high accuracy only with large pretraining sets, while "
            "convolutional networks generalize well from small ones. We interleave depthwise "
            "convolutions with windowed self-attention and obtain a backbone that trains from "
            "scratch on mid-sized datasets and still scales with data."
        ),
        sections=[
            dict(heading="1. INTRODUCTION", paragraphs=[
                "Image classification backbones have moved from convolutions {c:he2016} to "
                "attention {c:dosovitskiy2021}. The two families make different assumptions: "
                "convolutions assume locality and translation equivariance, attention assumes "
                "almost nothing and learns it from data.",
                "We study how much of each assumption a backbone needs when the training set "
                "holds between ten and one hundred thousand images.",
            ]),
            dict(heading="RELATED WORK", related=True, paragraphs=[
                "Convolu~tional networks have dominated image classification since the success "
                "of deep CNNs on ImageNet {c:krizhevsky2012}, followed by much deeper designs "
                "{c:simonyan2015} and residual connec~tions {c:he2016}. Dense connec~tivity "
                "{c:huang2017} and compound scaling {c:tan2019} further improved the "
                "accuracy-efficiency trade-off.",
                "Vision Transformers {c:dosovitskiy2021} apply a standard Transformer encoder "
                "to sequences of image patches but require large-scale pretraining. "
                "Data-efficient training with a distil~lation token {c:touvron2021,hinton2015} "
                "and hierarchical shifted-window attention {c:liu2021} reduce this "
                "require~ment considerably.",
                "Normalization of intermediate activations {c:ioffe2015} and adaptive "
                "optimizers {c:kingma2015} are used by all of the archi~tectures above. "
                "Recurrent networks with gated memory cells {c:hochreiter1997} were also "
                "explored for reading images row by row, but they are rarely used for "
                "classi~fication today. Our backbone combines the inductive biases of "
                "{c:he2016,simonyan2015,huang2017} with the global receptive field of "
                "{c:dosovitskiy2021,touvron2021,liu2021}.",
            ]),
            dict(heading="3. METHOD", paragraphs=[
                "The backbone has four stages. Each stage starts with a strided convolution "
                "that halves the resolution, followed by blocks that alternate a depthwise "
                "convolution with windowed multi-head self-attention. Windows are shifted by "
                "half their size in every second block so that information crosses window "
                "borders.",
                "We train for three hundred epochs with standard augmentation and label "
                "smoothing, using the same recipe for every dataset size.",
            ]),
            dict(heading="4. RESULTS", paragraphs=[
                "With ten thousand training images the hybrid backbone is six points more "
                "accurate than a pure attention model of the same size and one point more "
                "accurate than a residual network; with the full dataset it matches the best "
                "attention model.",
            ]),
        ],
        references=["he2016", "simonyan2015", "huang2017", "tan2019", "dosovitskiy2021",
                    "touvron2021", "liu2021", "ioffe2015", "hochreiter1997", "krizhevsky2012",
                    "kingma2015", "hinton2015"],
    ),
    dict(
        paper_id="demo-004",
        title="Subword-Aware Attention for Low-Resource Neural Machine Translation",
        authors=["Amara Nwosu", "Henrik Dahl"],
        affiliation="Autoscholar Demo Language Lab",
        published="2019-03-15",
        style="author-year",
        columns=1,
        running_head="Nwosu and Dahl: Subword-Aware Attention",
        page_number="bottom",
        abstract=(
            "Low-resource translation suffers from rare words that are split into many "
            "subword units. We let the attention mech~anism pool over the units of a word "
            "before attending, which gives the decoder word-level alignments at no extra "
            "cost. Gains are largest for morphologically rich source languages."
        ),
        sections=[
            dict(heading="1 Introduction", paragraphs=[
                "Neural machine translation {c:bahdanau2015,vaswani2017} needs large parallel "
                "corpora. With a few hundred thousand sentence pairs, rare words dominate the "
                "errors, and subword segmentation turns each of them into several pieces that "
                "attention must align separately.",
                "We propose subword-aware attention, which first pools the pieces of each "
                "source word and then attends over words.",
            ]),
            dict(heading="2 Related Work", related=True, paragraphs=[
                "Early neural machine translation systems summarized the whole source sentence "
                "into a single fixed-dimensional vector {c:sutskever2014,cho2014}. {t:bahdanau2015} "
                "introduced an attention mech~anism that lets the decoder search over source "
                "posi~tions, and {t:luong2015} compared global and local variants of attention. "
                "Phrase-based statis~tical systems {c:koehn2010} were the dominant approach "
                "before these models.",
                "Recur~rent encoders built from long short-term memory units "
                "{c:hochreiter1997} were subsequently replaced by self-attention {c:vaswani2017}. "
                "Rare words are handled by seg~menting them into subword units "
                "{c:sennrich2016}, which is also the starting point of our work.",
                "Pretrained word vectors {c:mikolov2013} and contextual represen~tations "
                "{c:peters2018} are often used to initialize the encoder. Training deep "
                "trans~lation models relies on adaptive optimi~zation and residual connections "
                "{c:kingma2015,he2016}, together with layer normal~ization {c:ba2016}.",
            ]),
            dict(heading="3 Subword-Aware Attention", paragraphs=[
                "Let a source word be segmented into pieces with encoder states. We pool the "
                "states of the pieces with a learned weighted average and compute attention "
                "weights over the pooled word states. The context vector is then spread back "
                "to the pieces in proportion to their pooling weights.",
                "The pooling adds one vector of parameters per layer and no extra attention "
                "heads, so training speed is unchanged.",
            ]),
            dict(heading="4 Conclusion", paragraphs=[
                "Pooling subword pieces before attention gives consistent gains on four "
                "low-resource language pairs.",
            ]),
        ],
        references=["bahdanau2015", "ba2016", "cho2014", "he2016", "hochreiter1997",
                    "kingma2015", "koehn2010", "luong2015", "mikolov2013", "peters2018",
                    "sennrich2016", "sutskever2014", "vaswani2017"],
    ),
]
