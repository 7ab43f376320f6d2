// Text tables rendered exactly like loxicmd does (olekukonko/tablewriter v0.0.5 configured with
// left/right borders only and "|" as the centre separator):
//
//   |    HOST    |  NAME  |
//   |------------|--------|
//   | 32.32.32.1 | ep1    |
//
// Headers are upper-cased ('_' and '.' become spaces) and centred; cells that look like decimal
// numbers are right-aligned, everything else left-aligned; cells wider than 30 columns are wrapped on
// spaces; no top or bottom border. A table with neither header nor rows renders as "".
#pragma once

#include <string>
#include <vector>

namespace floatlb::cli {

class Table {
 public:
  void setHeader(std::vector<std::string> header) { header_ = std::move(header); }
  void append(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  [[nodiscard]] size_t rowCount() const { return rows_.size(); }
  [[nodiscard]] std::string render() const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

// The header transformation of tablewriter ("# of Endpoints" -> "# OF ENDPOINTS", "a_b" -> "A B").
std::string tableTitle(const std::string& header);
// True when tablewriter right-aligns the cell: optional '-', digits (optionally grouped by ","
// thousands separators), optional ".digits".
bool looksNumeric(const std::string& cell);

}  // namespace floatlb::cli
