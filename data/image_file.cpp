#include "data/image_file.hpp"

#include <png.h>

#include <cctype>
#include <cstring>
#include <limits>

#include "graph/errors.hpp"

namespace bnlab::data {

namespace {

constexpr uint8_t kPngSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
// Far beyond any image a model of bnlab takes, small enough that a lying header cannot ask for
// gigabytes: 2^26 pixels (8192 x 8192).
constexpr int64_t kMaxPixels = int64_t{1} << 26;

bool is_png(std::span<const uint8_t> b) { return b.size() >= 8 && std::memcmp(b.data(), kPngSignature, 8) == 0; }

bool is_netpbm(std::span<const uint8_t> b) {
  return b.size() >= 3 && b[0] == 'P' && (b[1] == '2' || b[1] == '3' || b[1] == '5' || b[1] == '6') &&
         std::isspace(b[2]);
}

// Frees libpng's state however read_png leaves.
struct PngImage {
  png_image image{};
  PngImage() {
    image.version = PNG_IMAGE_VERSION;
  }
  ~PngImage() { png_image_free(&image); }
};

Image read_png(const std::string& path, std::span<const uint8_t> bytes) {
  PngImage png;
  png_image& im = png.image;
  if (!png_image_begin_read_from_memory(&im, bytes.data(), bytes.size()))
    throw InputError(path + ": not a readable PNG (libpng: " + im.message + ")");
  if (im.format & PNG_FORMAT_FLAG_LINEAR)
    throw InputError(path + ": a 16-bit PNG; bnlab reads 8-bit images (training pixels are bytes): save it with 8 bits per channel");
  if (im.format & PNG_FORMAT_FLAG_ALPHA)
    throw InputError(path + ": the PNG has an alpha channel (or transparency); save it without one (bnlab does not guess a background)");
  if (static_cast<int64_t>(im.width) * im.height > kMaxPixels)
    throw InputError(path + ": a " + std::to_string(im.width) + "x" + std::to_string(im.height) + " PNG is larger than bnlab reads");
  Image out;
  out.format = "PNG";
  out.width = im.width;
  out.height = im.height;
  const bool color = (im.format & PNG_FORMAT_FLAG_COLOR) || (im.format & PNG_FORMAT_FLAG_COLORMAP);
  out.channels = color ? 3 : 1;
  im.format = color ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
  out.pixels.resize(static_cast<size_t>(PNG_IMAGE_SIZE(im)));
  if (!png_image_finish_read(&im, nullptr, out.pixels.data(), 0, nullptr))
    throw InputError(path + ": a truncated or corrupt PNG (libpng: " + im.message + ")");
  return out;
}

// The netpbm header's tokens: magic, width, height, maxval, separated by whitespace and '#'
// comments; the binary forms' pixels start one whitespace byte after maxval.
class NetpbmReader {
 public:
  NetpbmReader(const std::string& path, std::span<const uint8_t> bytes) : path_(path), b_(bytes) {}

  // The next unsigned integer, skipping whitespace and comments; `what` names it in messages.
  int64_t number(const char* what) {
    skip_space();
    const size_t start = at_;
    int64_t v = 0;
    while (at_ < b_.size() && std::isdigit(b_[at_])) {
      v = v * 10 + (b_[at_] - '0');
      if (v > std::numeric_limits<int32_t>::max())
        throw InputError(path_ + ": " + what + " at byte " + std::to_string(start) + " is too large");
      ++at_;
    }
    if (at_ == start)
      throw InputError(path_ + ": expected the " + what + " (a number) at byte " + std::to_string(start) +
                       (at_ < b_.size() ? "" : ", but the file ends there"));
    return v;
  }
  size_t offset() const { return at_; }
  void skip_one_space() {
    if (at_ >= b_.size() || !std::isspace(b_[at_]))
      throw InputError(path_ + ": expected one whitespace byte after maxval at byte " + std::to_string(at_));
    ++at_;
  }

 private:
  void skip_space() {
    while (at_ < b_.size()) {
      if (b_[at_] == '#') {
        while (at_ < b_.size() && b_[at_] != '\n') ++at_;
      } else if (std::isspace(b_[at_])) {
        ++at_;
      } else {
        break;
      }
    }
  }
  const std::string& path_;
  std::span<const uint8_t> b_;
  size_t at_ = 2;  // after the magic
};

Image read_netpbm(const std::string& path, std::span<const uint8_t> bytes) {
  const char kind = static_cast<char>(bytes[1]);
  const bool binary = kind == '5' || kind == '6';
  Image out;
  out.channels = kind == '3' || kind == '6' ? 3 : 1;
  out.format = std::string(out.channels == 1 ? "PGM" : "PPM") + " (P" + kind + ")";
  NetpbmReader r(path, bytes);
  out.width = r.number("width");
  out.height = r.number("height");
  if (out.width == 0 || out.height == 0 || out.width * out.height > kMaxPixels)
    throw InputError(path + ": " + out.format + " of " + std::to_string(out.width) + "x" + std::to_string(out.height) +
                     " pixels: bnlab reads 1 to " + std::to_string(kMaxPixels) + " pixels");
  const int64_t maxval = r.number("maxval");
  if (maxval > 255)
    throw InputError(path + ": a 16-bit " + out.format + " (maxval " + std::to_string(maxval) +
                     "); bnlab reads 8-bit images with maxval 255 (training pixels are bytes)");
  if (maxval != 255)
    throw InputError(path + ": " + out.format + " with maxval " + std::to_string(maxval) +
                     "; bnlab reads maxval 255 only (rescaling would give values no training image had)");
  const auto count = static_cast<size_t>(out.width * out.height * out.channels);
  out.pixels.resize(count);
  if (binary) {
    r.skip_one_space();
    const size_t start = r.offset();
    if (bytes.size() - start < count)
      throw InputError(path + ": truncated " + out.format + ": " + std::to_string(out.width) + "x" + std::to_string(out.height) +
                       " needs " + std::to_string(count) + " pixel bytes from byte " + std::to_string(start) + ", the file has " +
                       std::to_string(bytes.size() - start));
    std::memcpy(out.pixels.data(), bytes.data() + start, count);
    return out;
  }
  for (size_t i = 0; i < count; ++i) {
    const size_t at = r.offset();
    int64_t v = 0;
    try {
      v = r.number("pixel value");
    } catch (const InputError&) {
      throw InputError(path + ": truncated or malformed " + out.format + ": value " + std::to_string(i + 1) + " of " +
                       std::to_string(count) + " is missing or not a number (byte " + std::to_string(at) + ")");
    }
    if (v > maxval)
      throw InputError(path + ": value " + std::to_string(v) + " near byte " + std::to_string(at) + " is above maxval " +
                       std::to_string(maxval));
    out.pixels[i] = static_cast<uint8_t>(v);
  }
  return out;
}

}  // namespace

std::string Image::described() const {
  return std::to_string(width) + "x" + std::to_string(height) + (channels == 1 ? " grayscale" : channels == 3 ? " RGB" : " ?");
}

bool is_image_file(std::span<const uint8_t> bytes) { return is_png(bytes) || is_netpbm(bytes); }

Image read_image(const std::string& path, std::span<const uint8_t> bytes) {
  if (is_png(bytes)) return read_png(path, bytes);
  if (is_netpbm(bytes)) return read_netpbm(path, bytes);
  throw InputError(path + ": not a PNG, PGM or PPM image (its first bytes are neither \\x89PNG nor P2, P3, P5 or P6)");
}

}  // namespace bnlab::data
