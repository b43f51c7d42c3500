#pragma once
// recgrad's optimizers and training utilities: SGD, Adam/AdamW, Adagrad and RMSProp (lazy
// row-sparse updates for embedding tables), learning-rate schedules, gradient clipping, and
// atomic, checksummed checkpoints of modules and optimizer state.
//
// One include for all of the package's public API (also nn/nn.h and below).
#include "nn/nn.h"
#include "optim/adagrad.h"
#include "optim/adam.h"
#include "optim/checkpoint.h"
#include "optim/optimizer.h"
#include "optim/rmsprop.h"
#include "optim/schedule.h"
#include "optim/sgd.h"
