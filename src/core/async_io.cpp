#include "core/async_io.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <thread>

namespace bookspace::core {

struct IoThreads::State {
  std::vector<std::unique_ptr<boost::asio::io_context>> io;
  std::vector<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work;
  std::vector<std::thread> threads;
};

IoThreads::IoThreads(std::size_t count) : state_(std::make_unique<State>()) {
  for (std::size_t i = 0; i < count; ++i) {
    contexts_.push_back(state_->io.emplace_back(std::make_unique<boost::asio::io_context>(1)).get());
  }
}

IoThreads::~IoThreads() {
  stop();
}

void IoThreads::start() {
  if (!state_->threads.empty()) return;
  for (auto& io : state_->io) {
    state_->work.emplace_back(io->get_executor());
    state_->threads.emplace_back([ctx = io.get()] { ctx->run(); });
  }
}

void IoThreads::stop() {
  state_->work.clear();
  for (auto& io : state_->io) io->stop();
  for (auto& t : state_->threads) t.join();
  state_->threads.clear();
}

}  // namespace bookspace::core
