/* SPDX-License-Identifier: MIT */
/* Private declarations of the io layer: model files and ONNX export (no declarations of their own yet).
 * Included only by the files of src/io/ and the layers above (docs/architecture.md). */
#ifndef REGNN_IO_H
#define REGNN_IO_H

#include "../path/path.h"

#endif
