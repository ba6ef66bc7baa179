// The reference experiments in LibTorch (PyTorch's C++ API), timed epoch by epoch: the LibTorch
// side of benchmarks/compare_frameworks.py. Built by the separate project benchmarks/libtorch/
// (never by bnlab's own build); prints the JSON lines bnlab_epoch and torch_models.py print.
//
//   export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
//   build/libtorch/libtorch_models --variant batchnorm --batch 32 --threads 1 --epochs 3
//
// Same models, initialization, optimizer and data as torch_models.py: "plain" / "batchnorm" the
// 784-128-64-10 MLP, ReLU, BatchNorm1d after each hidden ReLU for "batchnorm"; "cnn-plain" /
// "cnn-batchnorm" the reference CNN (conv 3x3x32 pad 1 → [BatchNorm2d] → ReLU → max-pool 2 → conv
// 3x3x64 pad 1 → [BatchNorm2d] → ReLU → max-pool 2 → flatten 3136 → dense 128 → [BatchNorm1d] →
// ReLU → dense 10) on the same values as [N,1,28,28] (NCHW); Glorot-uniform weights, zero biases;
// Adam lr 1e-3, eps 1e-7; 48,000 synthetic samples (784 floats in [0,1), uniform labels) in one
// tensor, reshuffled each epoch. One untimed warm-up epoch by default.
#include <torch/torch.h>

#include <ATen/Parallel.h>

#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>

namespace {

struct Args {
  std::string variant = "plain";
  int64_t batch = 32;
  int threads = 1;
  int epochs = 3;
  int warmup = 1;
  int64_t samples = 48000;
  uint64_t seed = 0;
};

[[noreturn]] void usage(const std::string& message) {
  std::fprintf(stderr, "libtorch_models: %s\nusage: libtorch_models [--variant plain|batchnorm|cnn-plain|cnn-batchnorm] [--batch N] [--threads N]"
                       " [--epochs N] [--warmup N] [--samples N] [--seed N]\n", message.c_str());
  std::exit(2);
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) usage(flag + " needs a value");
    const std::string v = argv[++i];
    try {
      if (flag == "--variant") a.variant = v;
      else if (flag == "--batch") a.batch = std::stoll(v);
      else if (flag == "--threads") a.threads = std::stoi(v);
      else if (flag == "--epochs") a.epochs = std::stoi(v);
      else if (flag == "--warmup") a.warmup = std::stoi(v);
      else if (flag == "--samples") a.samples = std::stoll(v);
      else if (flag == "--seed") a.seed = std::stoull(v);
      else usage("unknown flag " + flag);
    } catch (const std::logic_error&) {
      usage(flag + " needs a number, got '" + v + "'");
    }
  }
  if (a.variant != "plain" && a.variant != "batchnorm" && a.variant != "cnn-plain" && a.variant != "cnn-batchnorm")
    usage("--variant must be plain, batchnorm, cnn-plain or cnn-batchnorm");
  if (a.batch < 1 || a.threads < 1 || a.epochs < 1 || a.warmup < 0 || a.samples < 2) usage("counts must be positive");
  return a;
}

torch::nn::BatchNorm1d bn1(int64_t n) { return torch::nn::BatchNorm1d(torch::nn::BatchNorm1dOptions(n).momentum(0.1).eps(1e-5)); }

// The variant as a Sequential, Glorot-uniform weights and zero biases (as torch_models.py).
torch::nn::Sequential build_model(const std::string& variant) {
  torch::nn::Sequential model;
  if (variant == "plain" || variant == "batchnorm") {
    const bool bn = variant == "batchnorm";
    model->push_back(torch::nn::Linear(784, 128));
    model->push_back(torch::nn::ReLU());
    if (bn) model->push_back(bn1(128));
    model->push_back(torch::nn::Linear(128, 64));
    model->push_back(torch::nn::ReLU());
    if (bn) model->push_back(bn1(64));
    model->push_back(torch::nn::Linear(64, 10));
  } else {
    const bool bn = variant == "cnn-batchnorm";
    for (const auto& [c_in, c_out] : {std::pair<int64_t, int64_t>{1, 32}, {32, 64}}) {
      model->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(c_in, c_out, 3).padding(1).bias(true)));
      if (bn) model->push_back(torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(c_out).momentum(0.1).eps(1e-5)));
      model->push_back(torch::nn::ReLU());
      model->push_back(torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions(2).stride(2)));
    }
    model->push_back(torch::nn::Flatten());
    model->push_back(torch::nn::Linear(64 * 7 * 7, 128));
    if (bn) model->push_back(bn1(128));
    model->push_back(torch::nn::ReLU());
    model->push_back(torch::nn::Linear(128, 10));
  }
  torch::NoGradGuard no_grad;
  for (const auto& m : model->modules(/*include_self=*/false)) {
    if (auto* linear = m->as<torch::nn::Linear>()) {
      torch::nn::init::xavier_uniform_(linear->weight);
      torch::nn::init::zeros_(linear->bias);
    } else if (auto* conv = m->as<torch::nn::Conv2d>()) {
      torch::nn::init::xavier_uniform_(conv->weight);
      torch::nn::init::zeros_(conv->bias);
    }
  }
  return model;
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse(argc, argv);
  at::set_num_threads(a.threads);
  at::set_num_interop_threads(1);
  torch::manual_seed(a.seed);

  torch::nn::Sequential model = build_model(a.variant);
  model->train();
  torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(1e-3).betas({0.9, 0.999}).eps(1e-7));

  auto gen = at::detail::createCPUGenerator(1);
  torch::Tensor x = torch::rand({a.samples, 784}, gen);
  const torch::Tensor y = torch::randint(0, 10, {a.samples}, gen, torch::kLong);
  const int64_t n = a.samples;
  if (a.variant.rfind("cnn-", 0) == 0) x = x.reshape({n, 1, 28, 28}).contiguous();  // NCHW, the same values

  auto epoch = [&] {
    const torch::Tensor perm = torch::randperm(n);
    double total = 0;
    for (int64_t start = 0; start < n; start += a.batch) {
      const int64_t end = std::min(start + a.batch, n);
      const torch::Tensor idx = perm.slice(0, start, end);
      const torch::Tensor xb = x.index_select(0, idx);
      const torch::Tensor yb = y.index_select(0, idx);
      optimizer.zero_grad();
      torch::Tensor loss = torch::nn::functional::cross_entropy(model->forward(xb), yb);
      loss.backward();
      optimizer.step();
      total += loss.item<double>() * static_cast<double>(end - start);
    }
    return total / static_cast<double>(n);
  };

  for (int e = 0; e < a.warmup + a.epochs; ++e) {
    const auto start = std::chrono::steady_clock::now();
    const std::clock_t cpu_start = std::clock();
    const double loss = epoch();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double cpu_seconds = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
    if (e < a.warmup) continue;
    std::printf(
        "{\"framework\":\"libtorch\",\"variant\":\"%s\",\"batch\":%lld,\"threads\":%d,\"epoch\":%d,"
        "\"epoch_seconds\":%.6f,\"cpu_seconds\":%.6f,\"samples\":%lld,\"data\":\"synthetic\",\"loss\":%.6f,\"torch_threads\":%d,"
        "\"mkldnn\":%s}\n",
        a.variant.c_str(), static_cast<long long>(a.batch), a.threads, e - a.warmup + 1, seconds, cpu_seconds,
        static_cast<long long>(n), loss, at::get_num_threads(),
        at::hasMKLDNN() ? "true" : "false");
    std::fflush(stdout);
  }
  return 0;
}
