-- Pandoc filter for the PDF: a link to a place in the page (`#…`, or the sheet's `#`
-- placeholders) has no target in the PDF, where typst would refuse it: keep its text.
-- A link to another page of the site (`….html`, relative) has none either.
function Link(link)
  local target = link.target
  if target:sub(1, 1) == "#" or (not target:find(":") and target:match("%.html$")) then
    return link.content
  end
end
