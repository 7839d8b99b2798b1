#pragma once

// The job types of the files module, registered when the jobs module runs:
//   files.extract_text  {file_id}          the file's text → files.text_extracted.v1 (search)
//   documents.export    {document_ids?}    a zip of the caller's documents, stored as a File

#include <cstddef>

namespace bookspace::core {
class EventLog;
}
namespace bookspace::documents {
class Catalog;
}
namespace bookspace::jobs {
class Queue;
}

namespace bookspace::files {

class Service;

struct JobSettings {
  std::size_t extract_max_bytes = 1 << 20;  ///< text kept per file
  int extract_timeout_s = 120;
  int export_timeout_s = 1800;
};

void register_jobs(jobs::Queue& queue, Service& service, core::EventLog& events, documents::Catalog* catalog,
                   JobSettings settings);

}  // namespace bookspace::files
