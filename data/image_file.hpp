// Reading one image file for prediction: PNG (through Debian's libpng) and the netpbm formats PGM
// (P5 binary, P2 text) and PPM (P6 binary, P3 text), recognized by their first bytes.
//
//   std::vector<uint8_t> bytes = ...;                         // the file as read
//   if (bnlab::data::is_image_file(bytes)) {
//     bnlab::data::Image im = bnlab::data::read_image(path, bytes);
//     // im.height x im.width x im.channels bytes, channels last: gray (1) or RGB (3)
//   }
//
// What is read, and what is refused (an InputError naming the file and what it is):
//   - 8-bit samples only, as the training pixels are bytes: a 16-bit PNG or a netpbm file whose
//     maxval is not 255 is refused (rescaling would give values no training image had);
//   - grayscale files give 1 channel, RGB files 3; a PNG palette is looked up into RGB (gray
//     palettes too: the file does not say its palette is gray); PNG grayscale of 1, 2 or 4 bits is
//     scaled to 8 bits by libpng (v·255 / (2^bits − 1), exact);
//   - an alpha channel (or a PNG tRNS transparency) is refused: there is no right background to
//     composite it onto;
//   - a truncated or corrupt file (a bad CRC, too few pixels) is refused with libpng's or the
//     reader's reason.
// libpng's simplified API returns the file's 8-bit values unchanged for the usual files (no gAMA
// chunk, or sRGB's); a file that declares another gamma is converted to sRGB by libpng.
// No colour conversion or resizing happens here: the caller (predict) compares the image with the
// model's input and refuses what does not fit.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace bnlab::data {

struct Image {
  int64_t width = 0, height = 0;
  int64_t channels = 0;         // 1 (gray) or 3 (RGB)
  std::vector<uint8_t> pixels;  // [height, width, channels], row by row
  std::string format;           // "PNG", "PGM (P5)", "PPM (P3)", …: for messages
  // "28x28 grayscale" or "32x32 RGB"
  std::string described() const;
};

// True when the bytes start as a PNG (89 50 4E 47 0D 0A 1A 0A) or a netpbm P2, P3, P5 or P6 file
// ('P', the digit, then whitespace).
bool is_image_file(std::span<const uint8_t> bytes);

// Decodes `bytes` (the contents of `path`, named in messages). Throws InputError.
Image read_image(const std::string& path, std::span<const uint8_t> bytes);

}  // namespace bnlab::data
