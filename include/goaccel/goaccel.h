/*
 * libgoaccel — the umbrella header. Includes every public header.
 */
#ifndef INCLUDE_goaccel_h__
#define INCLUDE_goaccel_h__

#include "goaccel/common.h"
#include "goaccel/version.h"
#include "goaccel/errors.h"
#include "goaccel/digest.h"
#include "goaccel/extract.h"
#include "goaccel/image.h"
#include "goaccel/gomod.h"
#include "goaccel/key.h"
#include "goaccel/hash.h"
#include "goaccel/build.h"
#include "goaccel/store.h"
#include "goaccel/mount.h"

#endif
