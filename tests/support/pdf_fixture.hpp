#pragma once

// A small, valid PDF made in code (one page per entry of `pages`, Helvetica, ASCII text), so the
// extraction tests need no binary fixture in the repository.

#include <string>
#include <vector>

namespace bookspace::testing {

inline std::string make_pdf(std::vector<std::string> const& pages) {
  std::vector<std::string> objects;
  const int n = static_cast<int>(pages.size());
  // 1: catalog, 2: pages, 3: font, then per page: page object, content stream.
  std::string kids;
  for (int i = 0; i < n; ++i) kids += std::to_string(4 + 2 * i) + " 0 R ";
  objects.push_back("<< /Type /Catalog /Pages 2 0 R >>");
  objects.push_back("<< /Type /Pages /Kids [" + kids + "] /Count " + std::to_string(n) + " >>");
  objects.push_back("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>");
  for (int i = 0; i < n; ++i) {
    objects.push_back(
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >>"
        " /Contents " +
        std::to_string(5 + 2 * i) + " 0 R >>");
    const std::string stream = "BT /F1 18 Tf 72 700 Td (" + pages[static_cast<std::size_t>(i)] + ") Tj ET";
    objects.push_back("<< /Length " + std::to_string(stream.size()) + " >>\nstream\n" + stream +
                      "\nendstream");
  }
  std::string pdf = "%PDF-1.4\n";
  std::vector<std::size_t> offsets;
  for (std::size_t i = 0; i < objects.size(); ++i) {
    offsets.push_back(pdf.size());
    pdf += std::to_string(i + 1) + " 0 obj\n" + objects[i] + "\nendobj\n";
  }
  const std::size_t xref = pdf.size();
  pdf += "xref\n0 " + std::to_string(objects.size() + 1) + "\n0000000000 65535 f \n";
  for (auto off : offsets) {
    std::string num = std::to_string(off);
    pdf += std::string(10 - num.size(), '0') + num + " 00000 n \n";
  }
  pdf += "trailer\n<< /Size " + std::to_string(objects.size() + 1) + " /Root 1 0 R >>\nstartxref\n" +
         std::to_string(xref) + "\n%%EOF\n";
  return pdf;
}

}  // namespace bookspace::testing
