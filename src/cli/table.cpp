#include "cli/table.h"

#include <algorithm>
#include <climits>
#include <map>

namespace floatlb::cli {
namespace {

constexpr size_t kMaxCellWidth = 30;  // tablewriter's default auto-wrap width

// Display width: one column per UTF-8 code point (no East Asian wide-character handling).
size_t displayWidth(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    if (pos == std::string::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

std::string trimSpace(const std::string& s) {
  const char* ws = " \t\n\r\v\f";
  size_t b = s.find_first_not_of(ws);
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

std::string upper(std::string s) {
  for (char& c : s) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return s;
}

// Minimum-raggedness word wrap (the algorithm tablewriter uses): returns groups of words.
std::vector<std::vector<std::string>> wrapWords(const std::vector<std::string>& words, size_t lim) {
  const size_t n = words.size();
  constexpr long long kPenalty = 100000;
  std::vector<std::vector<long long>> len(n, std::vector<long long>(n, 0));
  for (size_t i = 0; i < n; ++i) {
    len[i][i] = static_cast<long long>(displayWidth(words[i]));
    for (size_t j = i + 1; j < n; ++j)
      len[i][j] = len[i][j - 1] + 1 + static_cast<long long>(displayWidth(words[j]));
  }
  std::vector<size_t> brk(n, n);
  std::vector<long long> cost(n, INT_MAX);
  const auto limit = static_cast<long long>(lim);
  for (size_t k = n; k-- > 0;) {
    if (len[k][n - 1] <= limit) {
      cost[k] = 0;
      brk[k] = n;
      continue;
    }
    for (size_t j = k + 1; j < n; ++j) {
      long long d = limit - len[k][j - 1];
      long long c = d * d + cost[j];
      if (len[k][j - 1] > limit) c += kPenalty;
      if (c < cost[k]) {
        cost[k] = c;
        brk[k] = j;
      }
    }
  }
  std::vector<std::vector<std::string>> lines;
  for (size_t i = 0; i < n;) {
    lines.emplace_back(words.begin() + static_cast<long>(i), words.begin() + static_cast<long>(brk[i]));
    i = brk[i];
  }
  return lines;
}

std::vector<std::string> wrapString(const std::string& s, size_t lim) {
  std::string flat = s;
  std::replace(flat.begin(), flat.end(), '\n', ' ');
  std::vector<std::string> words = split(flat, ' ');
  for (const auto& w : words) lim = std::max(lim, displayWidth(w));
  std::vector<std::string> out;
  for (const auto& group : wrapWords(words, lim)) {
    std::string line;
    for (size_t i = 0; i < group.size(); ++i) {
      if (i > 0) line += ' ';
      line += group[i];
    }
    out.push_back(line);
  }
  return out;
}

// Splits a cell into display lines and reports the width it needs (tablewriter parseDimension).
std::vector<std::string> cellLines(const std::string& cell, size_t* width) {
  std::vector<std::string> raw = split(cell, '\n');
  size_t max_width = 0;
  for (const auto& line : raw) max_width = std::max(max_width, displayWidth(line));
  max_width = std::min(max_width, kMaxCellWidth);
  size_t new_max = max_width;
  std::vector<std::string> lines;
  for (size_t i = 0; i < raw.size(); ++i) {
    std::vector<std::string> para = wrapString(raw[i], max_width);
    for (const auto& l : para) new_max = std::max(new_max, displayWidth(l));
    if (i > 0) lines.emplace_back(" ");
    lines.insert(lines.end(), para.begin(), para.end());
  }
  *width = new_max;
  return lines;
}

std::string repeat(size_t n, char c) { return std::string(n, c); }

std::string padCenter(const std::string& s, size_t width) {
  size_t w = displayWidth(s);
  if (w >= width) return s;
  size_t gap = width - w;
  size_t left = gap / 2;
  return repeat(left, ' ') + s + repeat(gap - left, ' ');
}
std::string padLeft(const std::string& s, size_t width) {
  size_t w = displayWidth(s);
  return w >= width ? s : repeat(width - w, ' ') + s;
}
std::string padRight(const std::string& s, size_t width) {
  size_t w = displayWidth(s);
  return w >= width ? s : s + repeat(width - w, ' ');
}

bool allDigits(const std::string& s, size_t b, size_t e) {
  if (b >= e) return false;
  for (size_t i = b; i < e; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

}  // namespace

std::string tableTitle(const std::string& header) {
  std::string s = header;
  auto num_or_space = [](char c) { return (c >= '0' && c <= '9') || c == ' '; };
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '_') {
      s[i] = ' ';
    } else if (s[i] == '.') {
      // A '.' between digits (like "0.0") is kept; any other '.' becomes a space.
      if ((i != 0 && !num_or_space(s[i - 1])) || (i != s.size() - 1 && !num_or_space(s[i + 1]))) s[i] = ' ';
    }
  }
  std::string trimmed = trimSpace(s);
  if (trimmed.empty() && !header.empty()) trimmed.assign(1, ' ');
  return upper(trimmed);
}

bool looksNumeric(const std::string& cell) {
  std::string s = trimSpace(cell);
  size_t i = 0;
  if (i < s.size() && s[i] == '-') ++i;
  size_t dot = s.find('.', i);
  size_t int_end = dot == std::string::npos ? s.size() : dot;
  if (dot != std::string::npos && !allDigits(s, dot + 1, s.size())) return false;
  // Integer part: plain digits, or 1-3 digits followed by ",ddd" groups.
  if (allDigits(s, i, int_end)) return true;
  std::vector<std::string> groups = split(s.substr(i, int_end - i), ',');
  if (groups.size() < 2 || groups[0].empty() || groups[0].size() > 3 ||
      !allDigits(groups[0], 0, groups[0].size())) {
    return false;
  }
  for (size_t g = 1; g < groups.size(); ++g) {
    if (groups[g].size() != 3 || !allDigits(groups[g], 0, 3)) return false;
  }
  return true;
}

std::string Table::render() const {
  size_t ncols = header_.size();
  for (const auto& r : rows_) ncols = std::max(ncols, r.size());
  std::vector<size_t> widths(ncols, 0);

  auto measure = [&](const std::vector<std::string>& cells) {
    std::vector<std::vector<std::string>> lines;
    for (size_t c = 0; c < cells.size(); ++c) {
      size_t w = 0;
      lines.push_back(cellLines(cells[c], &w));
      widths[c] = std::max(widths[c], w);
    }
    return lines;
  };
  std::vector<std::vector<std::string>> header_lines = measure(header_);
  std::vector<std::vector<std::vector<std::string>>> row_lines;
  row_lines.reserve(rows_.size());
  for (const auto& r : rows_) row_lines.push_back(measure(r));

  std::string out;
  if (!header_.empty()) {
    size_t height = 0;
    for (const auto& h : header_lines) height = std::max(height, h.size());
    for (size_t x = 0; x < height; ++x) {
      out += '|';
      for (size_t c = 0; c < ncols; ++c) {
        std::string h;
        if (c < header_lines.size() && x < header_lines[c].size()) h = header_lines[c][x];
        out += ' ' + padCenter(tableTitle(h), widths[c]) + " |";
      }
      out += '\n';
    }
    out += '|';
    for (size_t c = 0; c < ncols; ++c) out += repeat(widths[c] + 2, '-') + '|';
    out += '\n';
  }
  for (auto& cells : row_lines) {
    size_t height = 0;
    for (const auto& cl : cells) height = std::max(height, cl.size());
    for (auto& cl : cells) {
      while (cl.size() < height) cl.emplace_back("  ");  // tablewriter's filler for short cells
    }
    for (size_t x = 0; x < height; ++x) {
      for (size_t c = 0; c < cells.size(); ++c) {
        const std::string& s = cells[c][x];
        out += "| ";
        out += looksNumeric(s) ? padLeft(s, widths[c]) : padRight(s, widths[c]);
        out += ' ';
      }
      out += "|\n";
    }
  }
  return out;
}

}  // namespace floatlb::cli
