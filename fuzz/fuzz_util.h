/* SPDX-License-Identifier: MIT */
/* Shared by the fuzz targets: make an input's length field and CRC agree
 * with its bytes, so that mutations get past the checksum into the parser. */
#ifndef REGNN_FUZZ_UTIL_H
#define REGNN_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Bitwise CRC-32 (IEEE), independent of the library's table version. */
static inline uint32_t fuzz_crc32(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return ~c;
}

/* The trailing CRC-32 of everything before it, for an input of n >= 4 bytes. */
static inline void fuzz_fix_crc(uint8_t *p, size_t n)
{
    uint32_t crc = fuzz_crc32(p, n - 4);
    for (int i = 0; i < 4; i++)
        p[n - 4 + i] = (uint8_t)(crc >> (8 * i));
}

/* Header body length (bytes 12..19) and trailing CRC, for a model file of n >= 24 bytes. */
static inline void fuzz_fix_model(uint8_t *p, size_t n)
{
    uint64_t body = (uint64_t)(n - 24);
    for (int i = 0; i < 8; i++)
        p[12 + i] = (uint8_t)(body >> (8 * i));
    fuzz_fix_crc(p, n);
}

#endif
