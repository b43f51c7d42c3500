#pragma once
// recgrad's recommender systems: datasets (MovieLens, CSV and other formats, a synthetic
// generator), filters and splits, negative sampling and batch loaders, full and sampled ranking
// evaluation, the Recommender interface and the trainer, top-K recommendation, and the model
// zoo (one header per model under recsys/models/, all constructible by name from the registry).
//
// One include for all of the package's public API (also optim/optim.h and below). Internals
// (recsys/text_file.h, the file parser; recsys/model_utils.h, pieces the built-in models share)
// are not included.
#include "optim/optim.h"
#include "recsys/baselines.h"
#include "recsys/batches.h"
#include "recsys/cooccurrence.h"
#include "recsys/dataset.h"
#include "recsys/delimited.h"
#include "recsys/evaluator.h"
#include "recsys/experiment.h"
#include "recsys/filters.h"
#include "recsys/formats.h"
#include "recsys/item_rating_rows.h"
#include "recsys/metrics.h"
#include "recsys/models/autorec.h"
#include "recsys/models/biased_mf.h"
#include "recsys/models/bpr_mf.h"
#include "recsys/models/cdae.h"
#include "recsys/models/cfgan.h"
#include "recsys/models/ease.h"
#include "recsys/models/item_knn.h"
#include "recsys/models/mult_dae.h"
#include "recsys/models/mult_vae.h"
#include "recsys/models/neumf.h"
#include "recsys/models/pop.h"
#include "recsys/movielens.h"
#include "recsys/progress.h"
#include "recsys/protocol_files.h"
#include "recsys/rating_batches.h"
#include "recsys/recommender.h"
#include "recsys/registry.h"
#include "recsys/sampler.h"
#include "recsys/split.h"
#include "recsys/synthetic.h"
#include "recsys/topk.h"
#include "recsys/trainer.h"
#include "recsys/user_sets.h"
